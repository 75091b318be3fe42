"""Filling forms with the keyboard alone, as a user who cannot use a mouse would.

Every helper moves the focus with Tab (never by clicking or by `focus()`), then types, presses
arrow keys or Space. A field that Tab cannot reach fails the test: that is the point.
"""

from datetime import date

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) return {};
  return {name: e.name || '', value: e.value || '', type: e.type || '', tag: e.tagName,
          checked: !!e.checked, id: e.id || ''};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def _matches(field: dict, criteria: dict) -> bool:
    return all(field.get(key) == wanted for key, wanted in criteria.items())


def tab_to(page, limit: int = 80, **criteria) -> dict:
    """Press Tab from where the focus is until the focused element matches (name, value, id,
    type...); refuses to go round the page more than `limit` times."""
    for _ in range(limit):
        field = focused(page)
        if _matches(field, criteria):
            return field
        page.keyboard.press("Tab")
    raise AssertionError(f"{criteria} cannot be reached with Tab (last focus: {focused(page)})")


def skip_to_content(page) -> None:
    """The first Tab stop of every page is the skip link; Enter moves the focus to <main>."""
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")


def type_in(page, name: str, text: str) -> None:
    tab_to(page, name=name)
    page.keyboard.type(text)
    assert focused(page)["value"] == text, f"{name}: typed {text!r}, got {focused(page)}"


def type_date(page, name: str, day: date) -> None:
    """A date input is three parts (Tab moves between them) that take digits and move on by
    themselves, in the order of the browser's own UI language: Debian's Chromium shows
    month/day/year here whatever the page's or the context's locale, an en-GB or French build
    day/month/year. Type in the first order; if the field shows another date, go back to the
    first part (Shift+Tab twice) and type in the other order, as the user would."""
    tab_to(page, name=name)
    for pattern in ("%m%d%Y", "%d%m%Y"):
        page.keyboard.type(day.strftime(pattern))
        if focused(page)["value"] == day.isoformat():
            return
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"{name}: typed {day}, the field shows {focused(page)}")


def choose_radio(page, name: str, value: str) -> None:
    """Tab reaches a radio group once; Space picks the focused radio, arrows move the choice."""
    field = tab_to(page, name=name)
    if field["value"] == value:
        page.keyboard.press("Space")
    else:
        for _ in range(10):
            page.keyboard.press("ArrowDown")
            if focused(page)["value"] == value:
                break
    field = focused(page)
    assert field["value"] == value and field["checked"], f"{name}={value}: {field}"


def tick(page, name: str, value: str | None = None) -> None:
    """Tab to a checkbox (of a group: the one with this value) and tick it with Space."""
    criteria = {"name": name} if value is None else {"name": name, "value": value}
    tab_to(page, **criteria)
    page.keyboard.press("Space")
    assert focused(page)["checked"], f"{criteria} not ticked"


def pick_option(page, name: str, value: str) -> None:
    """A closed <select> takes Home and the arrow keys without opening."""
    tab_to(page, name=name)
    page.keyboard.press("Home")
    for _ in range(60):
        if focused(page)["value"] == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{name}: option {value!r} not reached with the arrow keys")


def submit_with_enter(page) -> None:
    """Tab to the form's submit button and press Enter; returns once the next page is shown."""
    tab_to(page, tag="BUTTON", type="submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
