@security-should
Feature: The SHOULDs a security reviewer expects of any Better Auth server
  What the Fetch standard states as SHOULD: a server that breaks it is warned, not failed. An
  answer whose Access-Control-Allow-Origin follows the request's Origin says Vary: Origin, or a
  shared cache hands one origin's answer to another (Fetch §3.2.5). A server that sends no
  Access-Control-Allow-Origin, or the same one whatever the Origin, is not judged.

  @should @fetch-cors-3.2.5-a
  Scenario: An Access-Control-Allow-Origin that follows the Origin comes with Vary: Origin
    Then get-session asked from two origins says Vary: Origin wherever its Access-Control-Allow-Origin follows the Origin
