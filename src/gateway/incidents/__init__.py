"""Incidents and the 72-hour clock (issue 16, item 2): what an incident touched, and telling the schools."""
