"""A form renderer that writes Django's standard widgets in Python instead of through templates.

Every ``<select>``, ``<input>`` and choice list of a form is rendered by Django through its
widget templates: one template for the select, an ``{% include %}`` per option and another per
option's attributes. On the jobs dashboard (its filter form), a records page (its filters) and
the export builder (filters, columns, formats), that was 15-50 % of the page's CPU
(pyinstrument through the test client, bench/bench_web.py --cpu). ``FastWidgetRenderer``
writes the same bytes for the templates it knows, and hands any other template to the
template engine as Django's own renderer does.

It only takes over a template whose source is exactly the one written below (Django 5.2's):
a project template that overrides it, or another Django version that changes it, is rendered
by the template engine as before. tests/jobs/test_fast_widgets.py compares the two renderers
widget by widget.

It lives in ``jobs`` (next to fast_rows.py) because the jobs dashboard, the business records
pages and the export builder all use it, and ``jobs`` is what the other two may depend on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.html import escape
from django.utils.safestring import SafeData

W = "django/forms/widgets/"
_INPUT_INCLUDE = '{% include "django/forms/widgets/input.html" %}\n'

# Django's template sources, as the renderer checks them before taking a template over.
SOURCES = {
    W + "attrs.html": (
        "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
        "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
        "{% endfor %}"
    ),
    W + "input.html": (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
        " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    W + "select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n  {% include option.template_name with widget=option %}"
        "{% endfor %}{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n"
    ),
    W + "select_option.html": (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    ),
    W + "multiple_input.html": (
        '{% with id=widget.attrs.id %}<div{% if id %} id="{{ id }}"{% endif %}'
        '{% if widget.attrs.class %} class="{{ widget.attrs.class }}"{% endif %}>'
        "{% for group, options, index in widget.optgroups %}{% if group %}\n"
        "  <div><label>{{ group }}</label>{% endif %}{% for option in options %}<div>\n"
        "    {% include option.template_name with widget=option %}</div>{% endfor %}"
        "{% if group %}\n  </div>{% endif %}{% endfor %}\n</div>{% endwith %}\n"
    ),
    W + "input_option.html": (
        '{% if widget.wrap_label %}<label{% if widget.attrs.id %} for="{{ widget.attrs.id }}"'
        '{% endif %}>{% endif %}{% include "django/forms/widgets/input.html" %}'
        "{% if widget.wrap_label %} {{ widget.label }}</label>{% endif %}\n"
    ),
    W + "radio.html": '{% include "django/forms/widgets/multiple_input.html" %}\n',
    W + "checkbox_select.html": '{% include "django/forms/widgets/multiple_input.html" %}\n',
    W + "radio_option.html": '{% include "django/forms/widgets/input_option.html" %}\n',
    W + "checkbox_option.html": '{% include "django/forms/widgets/input_option.html" %}\n',
    **{
        f"{W}{kind}.html": _INPUT_INCLUDE
        for kind in (
            "text",
            "number",
            "email",
            "url",
            "password",
            "hidden",
            "date",
            "datetime",
            "time",
            "search",
            "tel",
            "color",
            "checkbox",
        )
    },
}

_INCLUDE = re.compile(r'{% include "([^"]+)" %}')

_CONTEXT = Context(autoescape=True)


def _text(value: Any) -> str:
    """``{{ value }}`` with autoescaping, as the template engine writes it."""
    if type(value) is str:
        return escape(value)
    return render_value_in_context(value, _CONTEXT)


def _format(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the filter is is_safe, so safe input stays unescaped."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (ValueError, TypeError):
        text = ""
    return text if isinstance(value, SafeData) else escape(text)


def _lookup(mapping: dict, key: str) -> Any:
    """``{{ mapping.key }}``: a missing key is the engine's string_if_invalid, ""."""
    return mapping.get(key, "")


class FastWidgetRenderer(DjangoTemplates):
    """Django's template-based form renderer, with its standard widgets written in Python."""

    def __init__(self) -> None:
        super().__init__()
        self._writers: dict[str, Callable[[dict], str]] | None = None

    def writers(self) -> dict[str, Callable[[dict], str]]:
        """The templates this renderer writes itself: those whose source is the known one."""
        if self._writers is None:
            known = {
                W + "attrs.html": self._attrs,
                W + "input.html": self._input,
                W + "select.html": self._select,
                W + "select_option.html": self._select_option,
                W + "multiple_input.html": self._multiple_input,
                W + "input_option.html": self._input_option,
                W + "radio.html": lambda w: self._multiple_input(w) + "\n",
                W + "checkbox_select.html": lambda w: self._multiple_input(w) + "\n",
                W + "radio_option.html": lambda w: self._input_option(w) + "\n",
                W + "checkbox_option.html": lambda w: self._input_option(w) + "\n",
            }
            for name, source in SOURCES.items():
                if source == _INPUT_INCLUDE:
                    known[name] = lambda w: self._input(w) + "\n"
            writers = {}
            for name, write in known.items():
                try:
                    source = self.get_template(name).template.source
                except Exception:  # noqa: BLE001  not found: left to the engine
                    continue
                if source == SOURCES[name]:
                    writers[name] = write
            # An include this renderer writes needs the template it includes to be its own too
            # (the includes named in the sources; an option's template is looked up per option).
            needs = {name: _INCLUDE.findall(source) for name, source in SOURCES.items()}
            changed = True
            while changed:
                changed = False
                for name in list(writers):
                    if any(dep not in writers for dep in needs.get(name, ())):
                        del writers[name]
                        changed = True
            self._writers = writers
        return self._writers

    def render(self, template_name, context, request=None):
        write = self.writers().get(template_name)
        widget = context.get("widget") if isinstance(context, dict) else None
        if write is None or not isinstance(widget, dict) or len(context) != 1:
            return super().render(template_name, context, request=request)
        # The engine strips what the top template writes (BaseRenderer.render).
        return write(widget).strip()

    # Each method writes what its template writes, its final newline included: an
    # {% include %} keeps the included template's newline, only the top one is stripped.

    def _include(self, template_name: str, widget: dict) -> str:
        write = self.writers().get(template_name)
        if write is not None:
            return write(widget)
        return self.get_template(template_name).render({"widget": widget})

    def _attrs(self, widget: dict) -> str:
        attrs = widget["attrs"]
        if "items" in attrs:  # {{ widget.attrs.items }} would look the key up first
            return self.get_template(W + "attrs.html").render({"widget": widget})
        out = []
        for name, value in attrs.items():
            if value is not False:
                out.append(" " + _text(name))
                if value is not True:
                    out.append('="' + _format(value) + '"')
        return "".join(out)

    def _input(self, widget: dict) -> str:
        value = _lookup(widget, "value")
        return (
            f'<input type="{_text(_lookup(widget, "type"))}" name="{_text(_lookup(widget, "name"))}"'
            + ("" if value is None else f' value="{_format(value)}"')
            + self._attrs(widget)
            + ">\n"
        )

    def _select_option(self, widget: dict) -> str:
        return (
            f'<option value="{_format(_lookup(widget, "value"))}"{self._attrs(widget)}>'
            f"{_text(_lookup(widget, 'label'))}</option>\n"
        )

    def _select(self, widget: dict) -> str:
        out = [f'<select name="{_text(_lookup(widget, "name"))}"{self._attrs(widget)}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{_text(group_name)}">')
            for option in group_choices:
                out.append("\n  " + self._include(option["template_name"], option))
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>\n")
        return "".join(out)

    def _multiple_input(self, widget: dict) -> str:
        attrs = widget["attrs"]
        id_, css = _lookup(attrs, "id"), _lookup(attrs, "class")
        out = ["<div"]
        if id_:
            out.append(f' id="{_text(id_)}"')
        if css:
            out.append(f' class="{_text(css)}"')
        out.append(">")
        for group, options, _index in widget["optgroups"]:
            if group:
                out.append(f"\n  <div><label>{_text(group)}</label>")
            for option in options:
                out.append(
                    "<div>\n    " + self._include(option["template_name"], option) + "</div>"
                )
            if group:
                out.append("\n  </div>")
        out.append("\n</div>\n")
        return "".join(out)

    def _input_option(self, widget: dict) -> str:
        wrap = widget.get("wrap_label")
        out = []
        if wrap:
            id_ = _lookup(widget["attrs"], "id")
            out.append(f'<label for="{_text(id_)}">' if id_ else "<label>")
        out.append(self._input(widget))
        if wrap:
            out.append(f" {_text(_lookup(widget, 'label'))}</label>")
        out.append("\n")
        return "".join(out)


fast_widget_renderer = FastWidgetRenderer()


class FastForm(forms.Form):
    """A form whose widgets FastWidgetRenderer writes (a FilterSet's ``Meta.form``)."""

    default_renderer = fast_widget_renderer
