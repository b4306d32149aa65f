"""All SQL lives here: one repository class per aggregate, each over an AsyncSession."""
