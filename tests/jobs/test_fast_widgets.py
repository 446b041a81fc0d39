"""FastWidgetRenderer (jobs/fast_widgets.py) writes what Django's template renderer writes, widget
by widget, for the forms of the jobs dashboard, the records pages and the export builder."""

import datetime as dt

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from business.filters import filterset_for
from business.resources import resource_get
from business.resources.base import registry
from jobs.fast_widgets import SOURCES, FastWidgetRenderer, fast_widget_renderer
from jobs.filters import DataJobFilter
from jobs.models import DataJob
from reports.exports.forms import ExportForm

TEMPLATES = DjangoTemplates()

CHOICES = [
    ("", "Any"),
    ("a", "A & <b>"),
    (1, 1000),
    ("lazy", gettext_lazy("Completed")),
    ("group <x>", [("g1", "One"), ("g2", mark_safe("<em>Two</em>"))]),
    (dt.date(2026, 1, 2), "a date"),
]

WIDGETS = [
    forms.TextInput(),
    forms.TextInput(attrs={"type": "search", "placeholder": 'say "hi" <now>'}),
    forms.NumberInput(attrs={"step": "any"}),
    forms.EmailInput(),
    forms.DateInput(attrs={"type": "date"}),
    forms.HiddenInput(),
    forms.PasswordInput(),
    forms.CheckboxInput(),
    forms.Select(choices=CHOICES),
    forms.Select(choices=CHOICES, attrs={"class": "x", "hx-get": "/a?b=1&c=2"}),
    forms.SelectMultiple(choices=CHOICES),
    forms.NullBooleanSelect(),
    forms.RadioSelect(choices=CHOICES),
    forms.RadioSelect(choices=CHOICES, attrs={"class": "inline"}),
    forms.CheckboxSelectMultiple(choices=CHOICES),
    forms.CheckboxSelectMultiple(choices=CHOICES, attrs={"id": "cols", "class": "a b"}),
]

VALUES = [None, "", "a", "a & <b>", 1, 0, True, False, ["a", "g2"], [1], mark_safe("<i>"), "lazy"]

ATTRS = [None, {"id": "id_f"}, {"id": "id_f", "required": True, "disabled": False, "data-x": 3}]


def _render(widget, name, value, attrs, renderer):
    try:
        return widget.render(name, value, attrs=attrs, renderer=renderer)
    except TypeError as exc:  # a value the widget itself refuses (a list for a yes/no select)
        return repr(exc)


def _pair(widget, name, value, attrs):
    expected = _render(widget, name, value, attrs, TEMPLATES)
    return expected, _render(widget, name, value, attrs, fast_widget_renderer)


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
def test_each_widget_is_written_as_its_templates_write_it(widget):
    for value in VALUES:
        for attrs in ATTRS:
            for name in ("f", "a<b"):
                expected, actual = _pair(widget, name, value, attrs)
                assert actual == expected, (value, attrs, name)


def test_choice_options_rendered_one_by_one_read_the_same():
    # The export builder writes a choice list's options one by one ({{ option.tag }}).
    for widget_class in (forms.RadioSelect, forms.CheckboxSelectMultiple):

        class Form(forms.Form):
            field = forms.MultipleChoiceField(
                choices=[("a", "A&"), ("b", "B")], widget=widget_class
            )

        fast = Form(data={"field": ["b"]}, renderer=fast_widget_renderer)
        slow = Form(data={"field": ["b"]}, renderer=TEMPLATES)
        assert [w.tag() for w in fast["field"]] == [w.tag() for w in slow["field"]]
        assert [str(w) for w in fast["field"]] == [str(w) for w in slow["field"]]
        assert str(fast["field"]) == str(slow["field"])


def _same_fields(form_class, *args, **kwargs):
    fast = form_class(*args, renderer=fast_widget_renderer, **kwargs)
    slow = form_class(*args, renderer=TEMPLATES, **kwargs)
    for name in fast.fields:
        assert str(fast[name]) == str(slow[name]), name
    return fast


def test_the_dashboard_filter_form_reads_the_same(db, org, owner):
    DataJob.objects.create(organization=org, user=owner, target="contacts", target_label="C")
    for data in (None, {"status": "failed", "target": "contacts", "user": str(owner.pk)}):
        job_filter = DataJobFilter(data, queryset=DataJob.objects.all(), organization=org)
        assert job_filter.form.renderer is fast_widget_renderer
        form_class = type(job_filter.form)
        _same_fields(form_class, data)


@pytest.mark.parametrize("resource", registry.all(), ids=lambda r: r.name)
def test_a_records_filter_form_reads_the_same(resource):
    form_class = filterset_for(resource)(data={}, queryset=resource.model.objects.none())
    assert form_class.form.renderer is fast_widget_renderer
    _same_fields(type(form_class.form), {})
    # Bound: every choice filter at its last choice, every other one with text to escape.
    data = QueryDict(mutable=True)
    for name, field in form_class.form.fields.items():
        choices = [value for value, _label in getattr(field, "choices", ()) if value != ""]
        data.setlist(name, [str(choices[-1])] if choices else ['a "b" <c>'])
    _same_fields(type(form_class.form), data)


def test_the_export_form_reads_the_same():
    resource = resource_get("contacts")
    form = _same_fields(
        ExportForm,
        {"columns": ["email"], "format": "csv", "bom": "on"},
        resources=[resource, resource_get("accounts")],
        resource=resource,
        formats=["xlsx", "csv"],
    )
    assert ExportForm.default_renderer is fast_widget_renderer
    assert [w.tag() for w in form["format"]]


def test_an_overridden_template_is_left_to_the_engine(monkeypatch):
    # A template whose source is not Django's known one (a project override, another Django
    # version) is rendered by the engine, and so is every template that includes it.
    renderer = FastWidgetRenderer()
    real = renderer.get_template

    def get_template(name):
        template = real(name)
        if name.endswith("/attrs.html"):
            template.template.source = template.template.source + " "
        return template

    monkeypatch.setattr(renderer, "get_template", get_template)
    # Left: the choice lists' frames, which include their options by name at render time.
    assert set(renderer.writers()) == {
        "django/forms/widgets/multiple_input.html",
        "django/forms/widgets/radio.html",
        "django/forms/widgets/checkbox_select.html",
    }
    for widget in WIDGETS:
        for value in VALUES:
            expected = _render(widget, "f", value, {"id": "i"}, TEMPLATES)
            assert _render(widget, "f", value, {"id": "i"}, renderer) == expected
    # With Django's own templates, every one of them is written in Python.
    assert set(FastWidgetRenderer().writers()) == set(SOURCES)
