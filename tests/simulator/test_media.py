"""Media upload, metadata and the Bearer-protected download URL."""

from __future__ import annotations

import hashlib

import requests

from .helpers import CUSTOMER, PNID, TOKEN, wait_for

PDF = b"%PDF-1.4\n% a tiny test document\n"


def upload(graph, content=PDF, mime="application/pdf", name="invoice.pdf"):
    return graph.post(
        f"{PNID}/media",
        data={"messaging_product": "whatsapp", "type": mime},
        files={"file": (name, content, mime)},
    )


def test_upload_info_and_download(graph):
    response = upload(graph)
    assert response.status_code == 200
    media_id = response.json()["id"]
    assert media_id.isdigit()

    info = graph.get(media_id).json()

    assert info["id"] == media_id
    assert info["messaging_product"] == "whatsapp"
    assert info["mime_type"] == "application/pdf"
    assert info["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert int(info["file_size"]) == len(PDF)
    download = requests.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"


def test_the_download_url_needs_the_token_and_its_signature(graph):
    info = graph.get(upload(graph).json()["id"]).json()
    assert requests.get(info["url"], timeout=5).status_code == 401
    tampered = info["url"].replace("sig=", "sig=0")
    assert requests.get(tampered, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 404


def test_unknown_and_deleted_media(graph):
    assert graph.get("123456789").json()["error"]["code"] == 100
    media_id = upload(graph).json()["id"]
    assert graph.delete(media_id).json() == {"success": True}
    assert graph.get(media_id).status_code == 400


def test_an_upload_without_a_file_is_refused(graph):
    response = graph.post(f"{PNID}/media", data={"messaging_product": "whatsapp"})
    assert response.status_code == 400 and response.json()["error"]["code"] == 131008


def test_sending_uploaded_media_is_delivered_and_an_unknown_id_fails_131053(sim, receiver, graph):
    sim.customer_message(phone_number_id=PNID, wa_id=CUSTOMER, text="Send me the invoice")
    media_id = upload(graph).json()["id"]
    document = {"id": media_id, "filename": "invoice.pdf", "caption": "Your invoice"}
    good = graph.send({"to": "+" + CUSTOMER, "type": "document", "document": document}).json()["messages"][0]["id"]
    bad = graph.send({"to": "+" + CUSTOMER, "type": "image", "image": {"id": "999"}}).json()["messages"][0]["id"]

    wait_for(lambda: [s for s in receiver.statuses(good) if s["status"] == "delivered"], what="delivered")
    failed = wait_for(lambda: receiver.statuses(bad), what="the failed status")
    assert failed[0]["status"] == "failed" and failed[0]["errors"][0]["code"] == 131053
