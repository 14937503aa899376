from django.conf import settings


def site(request):
    return {
        "ENABLE_REST_API": settings.ENABLE_REST_API,
        "ENABLE_XMLRPC": settings.ENABLE_XMLRPC,
    }
