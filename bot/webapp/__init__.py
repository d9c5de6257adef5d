"""The Mini App (issue #17): a web page opened from the bot (its menu button, or the button under /card), served
by the bot's web server at WEBAPP_URL's path, and its JSON API.

- `auth`: who asks, from Telegram's signed initData (no other login); `visits`: a request by a known member or
  staff member, with its database session and texts in their language;
- `answers`: JSON answers, every refusal and failure a JSON error in the asker's language;
- `pages`: the page (plain HTML, CSS and JavaScript under `static/`) and its texts;
- `member_api`: the member's card, points, tier progress, history, rewards (redeem) and vouchers, through the
  chat's domain calls; `staff_api`: who a staff member is; `staff_reports`: the figures of /report with the charts'
  data; `staff_members`: member search, a member's page, recording and undoing purchases, adjusting points;
  `staff_exports`: /export's files as downloads;
- `mount`: all of it as one sub-application of the web server; `context`: what its routes need.
"""
