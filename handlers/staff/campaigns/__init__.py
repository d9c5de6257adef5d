"""/campaign for managers and owners: build a campaign for an audience, preview, test, send, follow its progress.

Every route here requires the manager role; for anyone else the filters do not match and the update falls
through, so a customer or a cashier typing /campaign gets the unknown-command answer and a forged button the
stale one.

/campaign lists the latest campaigns (state, sent of total) and the extra points still running, each opening to
its progress (and, for a voucher gift, how many of its vouchers were used so far; for extra points, until when)
with Pause, Resume, Cancel or End extra points as its state allows, and New campaign. The daily digest's win-back
button (`loyalty.digest.WIN_BACK_BUTTON`) starts a new campaign with its audience chosen: no purchase for 60 days.
A campaign whose confirmation failed before it started is "not finished" (a draft), with Finish and Cancel; Confirm
pressed again on its summary finishes it too (`confirm`), never storing a second one.

The wizard is declared in one place, `CampaignWizard` (its states) and `CAMPAIGN_FLOW` (its steps in order):
audience (all members; a tier; women or men; an age range typed "from-to"; a birthday month in the staff member's
calendar; win-back: no purchase for N days; spent at least an amount; bought, or never bought, from a typed
product category; referred at least N friends; at least N points) → the message, told the audience's size (text,
or a photo with a caption; {name} {points} {tier} {voucher} filled in per member) → gift (none; points with their
expiry; a voucher: its title, the catalog's worth steps, valid days; or a points multiplier: percent, days from
the send moment, the extra points' expiry) → when (now; a date and time typed in either calendar; or an occasion:
Nowruz or Yalda on its next day, a lunar one on the date typed for this year, the shop's next anniversary from its
founding date, at SEND_TIME shop time) → preview: the audience and its size, the gift, when, and the message as
the staff member would get it (shortened, with a note, when the whole would not fit in one message: any text the
wizard accepts can be confirmed), with Send a test to me, Confirm and Cancel. Confirm stores and starts the
campaign (`loyalty.campaigns`), then sends the progress message the sender keeps up to date
(`campaigns.set_report`; its text is `progress_text`: a bar, sent of all, rate and time left while it runs; once
done, delivered, blocked and failed).

The feature in five modules: `flow` (the wizard's states and steps), `answers` (the wizard's answers, typed, and
what they describe: the audience, the gift, when, the summary), `dates` (typed dates), `view` (the list and the
progress message) and `routes`.
"""

from handlers.staff.campaigns.routes import create_router

__all__ = ["create_router"]
