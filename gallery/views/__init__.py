"""The gallery's pages: browsing with filters, search and stars (`browse`), one image's page and
files (`images`), bulk actions and ZIP archives (`bulk`), and share links (`sharing`)."""
