"""A wrong password or code at a re-authentication (review M12): what she typed besides
stays on the form, and the error stands beside the code field, not only at the top."""

from __future__ import annotations

import re

from tests.web_support import PASSWORD, Page, World, csrf_of, sqlite_only

WRONG_CODE = "000000"


def error_at_code(html: str, suffix: str = "") -> str:
    """The error the code field points at (aria-describedby), which must be marked
    invalid."""
    page = Page.of(html)
    (code,) = page.find("input", id=f"reauth_code{suffix}")
    assert code.attrs.get("aria-invalid") == "true", code.attrs
    described = code.attrs.get("aria-describedby", "").split()
    for i in described:
        found = re.search(rf'id="{re.escape(i)}"[^>]*>([^<]+)<', html)
        if found:
            return found.group(1)
    raise AssertionError("no error beside the code field")


@sqlite_only
def test_a_wrong_code_keeps_the_export_form_and_says_so_at_the_code(world: World) -> None:
    world.approve_project("zonmw-3d")
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        answer = b.post("/app/research/exports", {
            "csrf_token": csrf_of(page.text), "project": "zonmw-3d", "format": "parquet",
            "k": "7", "sequences": "month", "reauth_password": PASSWORD,
            "reauth_code": WRONG_CODE,
        })
        assert answer.status_code == 401
        assert 'value="zonmw-3d"' in answer.text
        assert 'value="7"' in answer.text
        assert 'value="parquet" selected' in answer.text
        assert 'value="month" selected' in answer.text
        assert error_at_code(answer.text) == "Wachtwoord of code onjuist."
        assert '<p class="error" role="alert">Wachtwoord of code onjuist.' not in answer.text


@sqlite_only
def test_a_wrong_code_keeps_the_erasure_form_and_says_so_at_the_code(world: World) -> None:
    with world.browser("admin") as b:
        page = b.get("/app/admin")
        answer = b.post("/app/admin/erasure", {
            "csrf_token": csrf_of(page.text), "trajectory_id": str(world.girl),
            "reason": "verzoek toegewezen", "legal_ground": "request-granted",
            "reauth_password": PASSWORD, "reauth_code": WRONG_CODE,
        })
        assert answer.status_code == 401
        assert f'value="{world.girl}"' in answer.text
        assert "verzoek toegewezen" in answer.text
        assert error_at_code(answer.text) == "Wachtwoord of code onjuist."
