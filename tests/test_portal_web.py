"""The customer portal's web layer, over HTTP against a real trytond: the
security headers and cookies of every page, CSRF on every POST, the
language switch, errors as pages (never a traceback), static files."""
import pytest
import requests

from test_browser import sao_root, tryton_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture
def portal(tryton_server):  # noqa: F811
    return '%s%s/portal' % (tryton_server['url'], tryton_server['database'])


def csrf_of(client):
    "The CSRF token the pages of this browser put in their forms"
    return client.cookies['portal_csrf']


def test_page_headers_cookies_and_language(portal):
    client = requests.Session()
    response = client.get(portal + '/?lang=de')
    assert response.status_code == 200
    assert '<h1>Willkommen</h1>' in response.text
    assert response.headers['Referrer-Policy'] == 'no-referrer'
    csp = response.headers['Content-Security-Policy']
    assert "script-src 'self'" in csp and 'unsafe-inline' not in csp
    assert response.headers['Cache-Control'] == 'no-store'
    cookies = response.headers['Set-Cookie']
    assert 'portal_csrf=' in cookies and 'portal_language=de' in cookies
    assert 'HttpOnly' in cookies and 'SameSite=Lax' in cookies
    # no https here: a Secure cookie would never come back
    assert 'Secure' not in cookies
    # the choice is kept
    assert '<h1>Willkommen</h1>' in client.get(portal + '/').text
    assert '<h1>Welcome</h1>' in client.get(portal + '/?lang=en').text
    # no inline script or style in the page
    page = client.get(portal + '/').text
    assert '<script>' not in page and 'style=' not in page


def test_post_without_its_csrf_token_is_refused(portal):
    client = requests.Session()
    client.get(portal + '/?lang=en')
    refused = client.post(portal + '/sign-out', data={},
        allow_redirects=False)
    assert refused.status_code == 403
    assert 'The form has expired' in refused.text
    forged = client.post(portal + '/sign-out',
        data={'csrf_token': 'x' * 43}, allow_redirects=False)
    assert forged.status_code == 403
    # another browser's token is not this one's
    other = requests.Session()
    other.get(portal + '/')
    other = csrf_of(other)
    assert client.post(portal + '/sign-out', data={'csrf_token': other},
        allow_redirects=False).status_code == 403
    done = client.post(portal + '/sign-out',
        data={'csrf_token': csrf_of(client)}, allow_redirects=False)
    assert done.status_code == 303
    assert done.headers['Location'].endswith('/portal/')


def test_unknown_pages_and_files_are_404(portal, tryton_server):  # noqa: F811
    assert requests.get(portal + '/no-such-page').status_code == 404
    css = requests.get(portal + '/static/portal.css')
    assert css.status_code == 200
    assert css.headers['Content-Type'].startswith('text/css')
    for path in ('/static/../web.py', '/static/%2e%2e/web.py',
            '/static/nothing.css', '/static/%00', '/static/a%00.css'):
        assert requests.get(portal + path).status_code == 404, path
    assert requests.get(tryton_server['url'] + 'no_such_db/portal/'
        ).status_code == 404
