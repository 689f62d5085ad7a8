FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Production storage (hashed names + manifest) needs collectstatic in production mode; these
# values exist only for this build step, the real ones come from the environment at run time.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build.invalid python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
