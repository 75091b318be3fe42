"""`{{ form.field|bs_field }}`: the markup of crispy-bootstrap5's `|as_crispy_field`, in Python.

crispy renders each field through about ten nested templates (label, widget, help text,
errors), about 1 ms per field: 20-25 ms on the visit form. This filter builds the same elements
with the same attributes (wrapper `div_id_*`, label with `requiredField` and the asterisk,
widget classes `<widget> form-control|form-check-input|form-select`, `is-invalid`,
`aria-invalid`, `aria-describedby`, the `invalid-feedback` block with `error_<n>_<id>`, the
`form-text` help) directly in Python. Widgets it does not know fall back to crispy itself.
"""

from __future__ import annotations

from django import forms
from django.forms.boundfield import BoundField
from django.template import Library
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = Library()

_INPUTS = (forms.TextInput, forms.NumberInput, forms.DateInput, forms.EmailInput, forms.URLInput)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _widget(field: BoundField, extra: str, *, attrs: dict | None = None) -> dict:
    """The widget's context as crispy's `{% crispy_field field 'class' extra %}` would render."""
    widget = field.field.widget
    css = widget.attrs.get("class", "")
    name = type(widget).__name__.lower()
    if css:
        if css.find(name) == -1:
            css += f" {name}"
    else:
        css = name
    for cls in extra.split():
        if cls not in css.split():
            css += f" {cls}"
    built = field.build_widget_attrs(attrs or {})
    if field.auto_id and "id" not in widget.attrs:
        built.setdefault("id", field.auto_id)
    # As crispy sets the class on widget.attrs: it keeps its place among the widget's own attrs.
    context = widget.get_context(field.html_name, field.value(), {"class": css, **built})["widget"]
    return context


def _render_select(context: dict) -> str:
    """django/forms/widgets/select.html and select_option.html."""
    parts = [f'<select name="{conditional_escape(context["name"])}"{_attrs(context["attrs"])}>']
    for group, options, _index in context["optgroups"]:
        if group:
            parts.append(f'\n  <optgroup label="{conditional_escape(group)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
            )  # select_option.html ends with a newline, which the include keeps
        if group:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _render_widget(context: dict) -> str:
    if context["template_name"].endswith("/select.html"):
        return _render_select(context)
    if context["template_name"].endswith("textarea.html"):
        value = conditional_escape(context["value"]) if context["value"] else ""
        name = conditional_escape(context["name"])
        return f'<textarea name="{name}"{_attrs(context["attrs"])}>\n{value}</textarea>'
    value = context["value"]
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{conditional_escape(context["type"])}" '
        f'name="{conditional_escape(context["name"])}"{shown}{_attrs(context["attrs"])}>'
    )


def _errors(field: BoundField, tag: str = "p") -> str:
    if not field.errors:
        return ""
    items = "".join(
        format_html('<{} id="error_{}_{}"><strong>{}</strong></{}>', tag, n, field.auto_id, e, tag)
        for n, e in enumerate(field.errors, 1)
    )
    ident = conditional_escape(field.errors.field_id)
    return f'<div id="{ident}_error" class="invalid-feedback">{items}</div>'


def _help(field: BoundField) -> str:
    if not field.help_text:
        return ""
    ident = f'id="{_id(field)}_helptext" ' if field.auto_id else ""
    return f'<div {ident}class="form-text">{field.help_text}</div>'


def _label_text(field: BoundField) -> str:
    star = '<span class="asteriskField">*</span>' if field.field.required else ""
    return f"{conditional_escape(field.label)}{star}"


def _choices(field: BoundField) -> str:
    """bootstrap5/layout/radio_checkbox_select.html (not inline)."""
    widget = field.field.widget
    ident = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": ident} if ident else {})
    groups = widget.optgroups(field.html_name, widget.format_value(field.value()), attrs)
    invalid = " is-invalid" if field.errors else ""
    parts = ["<div >"]
    for g, (group, options, _index) in enumerate(groups):
        if group:
            parts.append(format_html("<strong>{}</strong>", group))
        for o, option in enumerate(options):
            last = g == len(groups) - 1 and o == len(options) - 1
            parts.append(
                '<div class="form-check">'
                f'<input type="{option["type"]}" class="form-check-input{invalid}" '
                f'name="{conditional_escape(field.html_name)}" '
                f'value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f'<label for="{conditional_escape(option["attrs"].get("id", ""))}" '
                f'class="form-check-label">{conditional_escape(option["label"])}</label>'
                f"{_errors(field) if last else ''}</div>"
            )
    parts.append("</div>")
    return "".join(parts)


def _safe(html: str) -> SafeString:
    # Every value put in `html` went through conditional_escape or format_html above, except
    # the help text, which crispy also renders `|safe` (it is written in the forms, translated).
    return mark_safe(html)  # noqa: S308


def _id(field: BoundField) -> str:
    return conditional_escape(field.auto_id)


@register.filter
def bs_field(field: BoundField) -> SafeString:
    """One field as crispy-bootstrap5's field.html renders it with `|as_crispy_field`."""
    widget = field.field.widget
    if field.is_hidden:
        attrs = field.build_widget_attrs({})
        if field.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", field.auto_id)
        context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
        return _safe(_render_widget(context))
    if isinstance(widget, forms.CheckboxInput):
        extra = "form-check-input is-invalid" if field.errors else "form-check-input"
        required = " requiredField" if field.field.required else ""
        return _safe(
            f'<div class="mb-3"><div id="div_{_id(field)}" class="form-check">'
            f"{_render_widget(_widget(field, extra))}"
            f'<label for="{conditional_escape(field.id_for_label)}" '
            f'class="form-check-label{required}">'
            f"{_label_text(field)}</label>{_errors(field)}{_help(field)}</div></div>"
        )
    required = " requiredField" if field.field.required else ""
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        described = field.aria_describedby
        aria = f' aria-describedby="{conditional_escape(described)}"' if described else ""
        label = ""
        if field.label:
            for_ = f'for="{conditional_escape(field.id_for_label)}" ' if field.id_for_label else ""
            label = f'<legend {for_}class="form-label{required} fs-6">{_label_text(field)}</legend>'
        body = f"{_choices(field)}{_help(field)}"
        if field.label:
            body = f"<fieldset{aria}>{label}{body}</fieldset>"
        return _safe(f'<div id="div_{_id(field)}" class="mb-3">{body}</div>')
    if not isinstance(widget, (*_INPUTS, forms.Textarea)) or type(widget).use_fieldset:
        from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field

        return as_crispy_field(field)
    extra = "form-control is-invalid" if field.errors else "form-control"
    label = ""
    if field.label:
        for_ = f'for="{conditional_escape(field.id_for_label)}" ' if field.id_for_label else ""
        label = f'<label {for_}class="form-label{required}">{_label_text(field)}</label>'
    return _safe(
        f'<div id="div_{_id(field)}" class="mb-3">{label}'
        f"{_render_widget(_widget(field, extra))}{_errors(field)}{_help(field)}</div>"
    )


def _plain(field: BoundField) -> str:
    """`field.as_widget()` (Django's widget templates), for inputs and textareas."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({})
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    return _render_widget(widget.get_context(field.html_name, field.value(), attrs)["widget"])


@register.filter
def widget(field: BoundField) -> SafeString:
    """`{{ field.as_widget }}` without the template engine, for inputs, textareas and
    selects."""
    if field.field.localize or not isinstance(
        field.field.widget, (*_INPUTS, forms.HiddenInput, forms.Textarea, forms.Select)
    ):
        return field.as_widget()
    return _safe(_plain(field))


@register.filter
def hidden_form(form) -> SafeString:
    """`{{ formset.management_form }}` (hidden fields only) without the template engine."""
    if form.errors or any(not f.is_hidden for f in form):
        return _safe(str(form))
    return _safe("".join(_plain(f) for f in form))


def _error_lines(errors) -> str:
    return "".join(f'<p class="text-danger small mb-0">{conditional_escape(e)}</p>' for e in errors)


@register.filter
def step_rows(formset) -> SafeString:
    """The rows of the steps table (prescriptions/_steps.html): a date and a dose per row, each
    with its hidden label (numbered for steps.js) and its errors. Built here rather than with a
    loop of about 20 template nodes per row: a third of the visit form's template time."""
    prefix = conditional_escape(formset.prefix)
    labels = conditional_escape(_("From")), conditional_escape(_("Daily dose (mg/day)"))
    rows = []
    for number, form in enumerate(formset, 1):
        cells = []
        for label, name in zip(labels, ("start_date", "daily_dose_mg"), strict=True):
            field = form[name]
            errors = _error_lines(field.errors)
            if name == "daily_dose_mg":
                errors += _error_lines(form.non_field_errors())
            ident = conditional_escape(field.id_for_label)
            cells.append(
                f'<td><label class="visually-hidden" for="{ident}">'
                f'{label} <span class="js-row-number">{number}</span></label>'
                f"{widget(field)}{errors}</td>"
            )
        rows.append(f'<tr data-step-row="{prefix}">\n  {cells[0]}\n  {cells[1]}\n</tr>\n')
    return _safe("".join(rows))
