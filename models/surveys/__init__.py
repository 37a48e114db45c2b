"""Customer satisfaction by sampling (seed 004): campaigns as data, the seeded draw, what a reply
means, and the survey and reply tables."""
