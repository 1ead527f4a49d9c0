"""The follow-up page of one winner's file is made of sections (the convention and its signature,
the amendments, the payments, the yearly reports), each registered by the module that owns it:

    @section(20, "followup/_payments.html")
    def payments_section(application, convention, user):
        return {...}   # the template's `section`; None: the section is not shown

The page renders them in `order`; every section reads what it needs in a bounded number of
queries (tests/test_followup_page.py counts them)."""

_SECTIONS = []


def section(order, template):
    def register(function):
        _SECTIONS.append((order, template, function))
        _SECTIONS.sort(key=lambda entry: entry[0])
        return function
    return register


def sections(application, convention, user):
    """[(template, context)] of the sections to show, in order."""
    shown = []
    for _order, template, function in _SECTIONS:
        context = function(application, convention, user)
        if context is not None:
            shown.append((template, context))
    return shown
