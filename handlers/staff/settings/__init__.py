"""/settings for owners: see the earning rules and change them one value at a time, validated and audited.

Every route here requires the owner role; for anyone else the filters do not match and the update falls
through, so a customer typing /settings gets the unknown-command answer and a forged button the stale one.

The flow: /settings shows the rules (menu) → a rule's button, or a tier and then its threshold or
multiplier, or Referrals and then one of its rules, asks for the new value (prompt, with Cancel, and Skip for
a rule that may be left unset) → the typed number is stored and the menu it came from comes back with a
confirmation; a refused value is explained and asked for again. A rule with a few possible values (who a
referral rewards, when, which catalog reward it gives as a voucher) offers them as buttons instead, and a
press stores the choice. Birthdays & reminders is a second section built the same way (`SECTIONS`): the
birthday greeting on or off, its hour, points and voucher, and how many days before points expire members are
reminded. The shop's profile (what customers see with /shop) is the last section, its own module (`shop`). Any
command ends the prompt (see `handlers.create_router`).

The feature in four modules: `fields` (what each rule is, the values it accepts and its value in words), `views`
(the menus, prompts and choices), `routes`, and `shop` for the shop's profile.
"""

from handlers.staff.settings.routes import RuleEdit, create_router
from handlers.staff.settings.shop import ShopEdit

__all__ = ["RuleEdit", "ShopEdit", "create_router"]
