"""The webhooks function: the HTTP front door for GitHub and CircleCI deliveries."""
