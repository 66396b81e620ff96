"""HTTP surface: the app factory, controllers and the error format."""
