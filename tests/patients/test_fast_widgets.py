"""The `|widget` filter (rtuportal/templatetags/portal_fields.py) gives exactly Django's
`as_widget()` markup, without the template engine, for the widgets it knows."""

import pytest
from django import forms

from patients.forms import PatientSearchForm
from rtuportal.templatetags.portal_fields import widget


class _Everything(forms.Form):
    text = forms.CharField(required=False, max_length=20)
    number = forms.IntegerField(required=False, min_value=0)
    note = forms.CharField(required=False, widget=forms.Textarea)
    pick = forms.ChoiceField(choices=[("", "—"), ("a", "A & B"), ("<b>", "<i>x</i>")])
    grouped = forms.ChoiceField(
        choices=[("Fruits", [("apple", "Apple"), ("pear", "Pear")]), ("other", "Other")]
    )
    several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"q": "BAC-", "status": "stopped", "sort": "code"},
        {"q": '"><script>alert(1)</script>', "status": "nonsense", "sort": "-latest_dose_mg"},
    ],
)
def test_search_form_widgets_match_django(data):
    form = PatientSearchForm(data)
    if data is not None:
        form.is_valid()
    for field in form:
        assert str(widget(field)) == str(field.as_widget()), field.name


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": "é<&>\"'", "number": "12", "note": "a\nb <c>", "pick": "<b>"},
        {"pick": "a", "grouped": "pear", "several": ["x", "y"]},
        {"grouped": "other", "number": "-3"},
    ],
)
def test_every_known_widget_matches_django(data):
    form = _Everything(data)
    if data is not None:
        form.is_valid()
    for field in form:
        assert str(widget(field)) == str(field.as_widget()), field.name
