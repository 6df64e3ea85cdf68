# Plain-Python core of the suite: no ORM here, so it is testable without a database.
