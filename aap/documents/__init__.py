"""Documents: PDF (WeasyPrint), Excel (openpyxl) and open-data writers."""


def init_app(app):
    """What the documents package gives the rest of the application: the renderers of the receipts
    attached to confirmation e-mails and of the decision letters attached to decision mails
    (aap/mail.py knows no domain)."""
    from ..mail import register_attachment_renderer
    from .decision_letter import render_letter_attachment
    from .receipt import render_receipt_attachment

    register_attachment_renderer("receipt", render_receipt_attachment)
    register_attachment_renderer("decision_letter", render_letter_attachment)
