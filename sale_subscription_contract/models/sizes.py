# The longest texts the module's Char fields take (Tryton answers a longer
# one with its own size error, and the database column is VARCHAR(size)).
NAME_SIZE = 100  # names of plans, templates, teams, close reasons
CODE_SIZE = 50  # codes and short settings (a close reason's code, a schedule)
