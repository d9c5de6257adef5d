"""The club's rules: members, the points ledger, phones, calendars. No messenger code here."""
