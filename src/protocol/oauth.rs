//! OAuth 2.1 / OIDC: authorize URLs, token and error responses, discovery documents.
