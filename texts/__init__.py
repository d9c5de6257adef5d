"""Texts the chat and the scheduler both write, in the reader's language, digits and calendar: numbers and the nouns
that agree with them, tier names, what a voucher is worth, a campaign's progress. Below `handlers` and `scheduler`,
above `loyalty`."""
