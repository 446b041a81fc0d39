from jobs.selectors import job_summary_items


def test_it_renders_a_summary_readably():
    items = job_summary_items(
        summary={
            "created": 1200,
            "dry_run": False,
            "rate": 1234.5,
            "mode": "skip-invalid-rows",
            "columns": ["email", "name"],
            "mapping": {"E-Mail": "email", "Nested": {"a": 1}},
            "rows": [{"a": 1}, {"b": 2}],
            "files": {"failed-rows": {"name": "x", "filename": "y"}},
            "_spool": "/tmp/internal",
            "note": None,
            "references_created": {},
        }
    )
    flat = {i.label: (i.value, [(c.label, c.value) for c in i.children]) for i in items}
    assert flat["Created"] == ("1,200", [])
    assert flat["Dry run"] == ("No", [])
    assert flat["Rate"] == ("1,234.50", [])
    assert flat["Mode"] == ("skip-invalid-rows", [])
    assert flat["Columns"] == ("email, name", [])
    # A column header from the user's file is data: shown as it is.
    assert flat["Mapping"][1][0] == ("E-Mail", "email")
    # Empty values, empty groups and lists of records are left out rather than shown as
    # "—" or "2 items".
    assert "Rows" not in flat and "Note" not in flat and "References created" not in flat
    assert "Files" not in flat and "_spool" not in str(flat)


def test_it_accepts_a_summary_that_is_not_a_dict():
    assert job_summary_items(summary=None) == []
    assert job_summary_items(summary="done")[0].value == "done"
