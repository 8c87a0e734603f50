"""Image layer analytics: which layers and files each container really reads."""
