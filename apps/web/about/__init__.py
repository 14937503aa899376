"""The about page: this instance's version and the APIs it offers."""
