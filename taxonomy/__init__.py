"""The shared referential: sector (NAF/NACE), country, zone and document-type schemes, and the classifier."""
