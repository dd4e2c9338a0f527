"""Sessions, cookies, security headers, login throttling (django-axes), the client's address behind
proxies, and the Content-Security-Policy."""

from datetime import timedelta

import environ
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE

from lmsbridge.settings.connectors import UDEMY_ALLOWED_API_HOSTS
from lmsbridge.settings.environment import PRODUCTION, env

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
# A session ends with the browser, and in any case SESSION_COOKIE_AGE after the login.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Permissions-Policy (django-permissions-policy): the console needs no device or payment API.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Login throttling (django-axes): AXES_FAILURE_LIMIT failed logins for one username from one IP
# lock that pair out for AXES_COOLOFF_MINUTES (answer 429, the right password included); a
# successful login resets the count. Covers the console login and the Django admin login.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The "IP" above is the client's (lmsbridge/client_ip.py). Behind reverse proxies every request
# connects from the last proxy (127.0.0.1 for one on the same host): set TRUSTED_PROXY_COUNT to
# the number of proxies, each appending the address it saw to TRUSTED_PROXY_HEADER, and the
# client's address is read from there (the N-th entry from the right, never one the client
# wrote). 0, the default: the header is ignored, the connecting address counts. Without it,
# five wrong passwords from anyone would lock a user out for every client behind the proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="X-Forwarded-For")
if TRUSTED_PROXY_COUNT < 0:
    raise environ.ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
AXES_CLIENT_IP_CALLABLE = "lmsbridge.client_ip.client_ip"


def _launch_sources(host_patterns: list[str]) -> list[str]:
    """CSP sources of the Udemy sites START may redirect to: a form POST that redirects is
    checked against form-action by browsers, so the allow-listed API hosts are allowed there
    (https, or http on any port for the loopback sandbox); fnmatch patterns CSP can't express
    (a "*" anywhere but a leading "*.") are left out."""
    sources = []
    for pattern in (p.strip().lower() for p in host_patterns):
        if not pattern or "*" in pattern.removeprefix("*."):
            continue
        loopback = pattern in ("localhost", "[::1]", "::1") or pattern.startswith("127.")
        host = f"[{pattern}]" if pattern == "::1" else pattern
        sources.append(f"http://{host}:*" if loopback else f"https://{host}")
    return sources


# Content-Security-Policy (django-csp 4). Scripts come only from this site's static files
# (Bootstrap, htmx: neither needs 'unsafe-eval' for what the pages use); a nonce is available as
# `request.csp_nonce` for any inline script. Styles allow 'unsafe-inline' because the pygal
# charts are inline SVGs carrying their own <style> element and htmx injects a small <style> for
# its indicators; scripts never get 'unsafe-inline'. Images: course pictures come from Udemy's
# CDN (https:), icons are data: URLs. Forms post to this site only, and START's redirect may
# land on the organization's Udemy site (see `_launch_sources`).
# Outside production the Udemy sandbox of the demo and the tests serves its own course pictures
# over http on loopback (any port: the tests start it on a free one), so img-src admits the
# loopback hosts UDEMY_ALLOWED_API_HOSTS lets the sandbox use; production admits https only.
_SANDBOX_IMAGE_SOURCES = (
    []
    if PRODUCTION
    else [s for s in _launch_sources(UDEMY_ALLOWED_API_HOSTS) if s.startswith("http://")]
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "https:", "data:", *_SANDBOX_IMAGE_SOURCES],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF, *_launch_sources(UDEMY_ALLOWED_API_HOSTS)],
    }
}
