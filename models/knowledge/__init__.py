"""Reply scripts (统一答复口径), knowledge articles and the centre's documents: versions with a
scope and validity, approved before they are in force."""
