"""The review pages in a browser at 1440, 1280 and 375 px (issue 15, point 8): nothing of the
page's content is drawn over the footer (a sent review's card once stretched to the height of
the whole row, and « Les autres évaluations » overflowed onto the footer), and nothing scrolls
sideways on a phone."""
import pytest

from aap.extensions import db
from aap.review import reviews

from .. import factories, factories_review
from .conftest import login, unexpected_errors

REVIEWER = "evaluatrice@example.org"
LONG = ("Le projet s'appuie sur une équipe expérimentée et des partenaires locaux nombreux ; "
        "le suivi des binômes est régulier et documenté. ") * 3


def set_up(app):
    """A file with its long content, sent by the reviewer and by a colleague; a second file
    with the reviewer's draft."""
    with app.app_context():
        reviewer = factories_review.reviewer_user(REVIEWER)
        colleague = factories_review.reviewer_user("collegue@example.org")
        call = factories.call(reviewers_per_file=2)
        sent, draft = [factories.submitted_file(call, name, region="53", status="in_review",
                                                       summary=LONG, objectives=LONG, partners=LONG)
                       for name in ("Mentorat Solidaire", "Passerelles")]
        for application in (sent, draft):
            factories_review.assigned(application, reviewer)
        factories_review.assigned(sent, colleague)
        scores = {c.id: (3, LONG) for c in call.criteria}
        reviews.submit_review(sent, colleague, scores, "favorable", comment=LONG)
        reviews.submit_review(sent, reviewer, scores, "reserve", comment=LONG)
        reviews.save_review(draft, reviewer, scores, "favorable", comment=LONG)
        db.session.commit()
        return [f"/evaluation/dossiers/{sent.id}", f"/evaluation/dossiers/{draft.id}",
                f"/evaluation/dossiers/{draft.id}/envoi"]


# The lowest bottom edge of the visible elements of <main>, and the top of the footer.
MEASURE = """() => {
  let bottom = 0, culprit = null;
  for (const el of document.querySelectorAll('main *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden' && box.bottom > bottom) {
      bottom = box.bottom;
      culprit = el.tagName + '.' + el.className + ' « ' + (el.textContent || '').trim().slice(0, 40) + ' »';
    }
  }
  const footer = document.querySelector('footer').getBoundingClientRect();
  return {mainBottom: bottom + scrollY, footerTop: footer.top + scrollY, culprit: culprit,
          scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth};
}"""


@pytest.mark.parametrize("width", [1440, 1280, 375])
def test_nothing_overlaps_the_footer_on_the_review_pages(live_app, page, width):
    paths = set_up(live_app.app)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_app.url, REVIEWER)
    for path in paths:
        page.goto(live_app.url + path)
        page.wait_for_load_state("networkidle")
        page.shots(f"{path.strip('/').replace('/', '-')}-{width}")
        box = page.evaluate(MEASURE)
        assert box["mainBottom"] <= box["footerTop"], (path, width, box)
        assert box["scrollWidth"] <= box["width"], (path, width, box)  # nothing scrolls sideways
    assert page.get_by_role("heading", name="Les autres évaluations").count() == 0  # (the last page)
    assert unexpected_errors(page) == []
