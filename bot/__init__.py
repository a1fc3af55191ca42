"""The modelgate Slack bot: slash commands, buttons and run notifications in Slack."""
