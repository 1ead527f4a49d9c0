"""The refusals of the review services, each with a French message for the user."""


class ReviewError(Exception):
    """A refusal to show to the user (French message)."""


class IncompleteReview(ReviewError):
    """Submission refused: `problems` maps form field names to French messages."""

    def __init__(self, problems):
        super().__init__("L'évaluation est incomplète : " + " ".join(problems.values()))
        self.problems = problems


class StaleProposal(ReviewError):
    """The data changed since the proposal was shown: `proposal` is the new one."""

    def __init__(self, proposal):
        super().__init__("Les données ont changé depuis l'affichage de la proposition : "
                         "vérifiez la nouvelle proposition avant de confirmer.")
        self.proposal = proposal
