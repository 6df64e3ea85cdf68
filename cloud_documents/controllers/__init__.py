from . import documents
