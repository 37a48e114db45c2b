"""Service quality: scorecards, sampling plans, inspection results and their appeals."""
