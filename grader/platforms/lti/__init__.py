"""LTI 1.3 Advantage: grades back to the course's LMS (Canvas, Moodle, Open edX).

Two halves. ``hml lti serve`` runs a small web tool (``app.py``, served by
waitress in ``server.py``) that the instructor registers once in the LMS and
launches once from the course: the launch's id_token is checked and the
course's context (the Assignment and Grade Services line items URL, the
Names and Role Provisioning Services roster URL, issuer, client id,
deployment id, token URL) is stored in a folder only the instructor can read
(``config.py``). ``hml lti push`` (``push.py``) then reads the roster
(``nrps.py``), finds or creates one line item per exercise (``ags.py``) and
posts each learner's final grade, recording every push in the gradebook.

The protocol is the library's: pylti1p3next 2.0.2 (module ``pylti1p3``), the
maintained fork of PyLTI1p3, whose original has been unmaintained since 2022.
It validates the OIDC login and the launch (state cookie, nonce, registration,
RS256 signature against the platform's JWKS, deployment, message claims),
signs the OAuth2 client assertion for service tokens and speaks AGS and NRPS.
What it leaves open is closed here: state and nonce are kept server-side and
taken once (``store.py``, ``launch.py``), claims are required and bounded, and
every answer from the platform is read with bounds on size, time and origin
(``http.py``).
"""
