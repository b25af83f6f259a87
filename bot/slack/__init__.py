"""The Slack app: slash command, approval flow and the cards it posts."""
