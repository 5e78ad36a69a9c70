"""The refusals of deaths and inheritance in the reader's language, one sentence per RuleError
code (merged into messages.BENEFIT_MESSAGES, which the pages use)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DEATH_MESSAGES: dict[str, Promise] = {
    "person_deceased": _(
        "This person was reported dead (died on %(died_on)s): the individual account is frozen "
        "and its balance goes to the heirs through an inheritance claim."
    ),
    "already_reported": _("This person's death is already on record."),
    "evidence_required": _("Attach the document (PDF, JPEG or PNG)."),
    "evidence_type": _("The document must be a PDF, JPEG or PNG file."),
    "invalid_reporter": _(
        "Say who reports the death: the employer, a family member or the agency."
    ),
    "died_before_birth": _("The date of death is before the date of birth."),
    "heirs_required": _("Name at least one heir."),
    "too_many_heirs": _("At most 20 heirs per claim."),
    "documents_required": _(
        "Attach the documents of the claim (PDF, JPEG or PNG) before the shares are decided."
    ),
    "claim_already_filed": _("An inheritance claim is already under way for this account."),
    "invalid_share": _(
        "Write the share as a fraction such as 1/3, or as 0.5: more than 0, at most 1."
    ),
    "share_required": _("Decide the share of this heir."),
    "shares_not_whole": _(
        "The shares add up to %(total)s, not to the whole (1): decide them again."
    ),
    "unknown_heir": _("This heir is not in the claim."),
    "termination_under_way": _(
        "A lump sum approved before the death is still being paid: wait for the bank's answer."
    ),
    "nothing_to_inherit": _("The individual account has no balance to inherit."),
    "claim_months_not_settled": _(
        "The claim waits until every month up to the month of death is settled. Not yet billed: "
        "%(unbilled)s. Billed but not fully paid: %(unpaid)s."
    ),
}
