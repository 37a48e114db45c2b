"""Service quality as use cases: drawing samples, scoring, appeals, reviews, results."""
