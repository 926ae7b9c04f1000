"""The HTTP edge: the ASGI application in front of Bolt (size limit, signature, health), running
it on uvicorn, and the tool API."""
