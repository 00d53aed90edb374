"""Every change to provider payments data goes through a function in this package; views, the
API, commands and the payment run only call them."""
