"""Drop repeated <script> entries from each page.

sphinx-thebe registers its inline configuration script on every `env-before-read-docs`
event, which Jupyter Book fires more than once, so pages declared `const THEBE_JS_URL` twice
and the browser logged "Identifier 'THEBE_JS_URL' has already been declared".
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        filename = getattr(script, "filename", script) or ""  # None and "" both mean inline
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    """Sphinx entry point: register the de-duplicating page hook."""
    app.connect("html-page-context", _dedupe, priority=900)  # after the themes' own hooks
    return {"parallel_read_safe": True, "parallel_write_safe": True}
