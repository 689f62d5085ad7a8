"""The lowest app: roles, request parameters, realtime group names and the API's error shape.

Every other app may import it; it imports none of them at module level (the dependencies point
one way: core <- whatsapp <- conversations <- webhooks <- inbox). No models of its own: the
roles' capabilities stay permissions on the table-less `inbox.Capability`.
"""
