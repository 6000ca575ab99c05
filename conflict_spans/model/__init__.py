"""Model stage: windows over long documents, casing features, the token classifier, training, decoding and prediction."""
