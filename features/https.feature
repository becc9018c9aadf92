@https
Feature: Cookies over https
  On an https base URL Better Auth marks every auth cookie Secure and gives it the
  `__Secure-` name prefix, so a browser never sends it over plain http and no http page can
  plant a cookie of that name.

  @better-auth-cookies-a @better-auth-cookies-c @rfc6265bis-4.1.2.5-a @rfc6265bis-4.1.3.1-a
  Scenario: Over https the session cookie is __Secure- prefixed and Secure
    Given a registered user
    When the user signs in with the right password
    Then the session cookie has the documented name
    And the session cookie is Secure exactly when the base URL is https

  @better-auth-cookies-c @rfc6265bis-4.1.2.5-a @rfc6265bis-4.1.3.1-a
  Scenario: Over https every auth cookie is __Secure- prefixed and Secure
    Given a registered user
    When the user signs in with the right password and rememberMe false
    Then every cookie the response sets is Secure and __Secure- prefixed
