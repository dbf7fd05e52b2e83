"""An OAuth2 token endpoint for the tests: authlib's authorization server (client-credentials
grant, the client authenticated in the form as Entra ID takes it) on Flask, at Entra ID's path
`/{tenant}/oauth2/v2.0/token`; and Azure managed identity's IMDS token route (`Metadata: true`).
Each request's form is printed as a JSON line, for the test to assert what was sent.

usage: oauth2_token_endpoint.py PORT CLIENT_ID CLIENT_SECRET
"""

import hmac
import json
import sys

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from flask import Flask, jsonify, request

PORT, CLIENT_ID, CLIENT_SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Client(ClientMixin):
    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_post"

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]


app = Flask(__name__)
server = AuthorizationServer(
    app,
    query_client=lambda client_id: Client() if client_id == CLIENT_ID else None,
    save_token=lambda token, request: None,
)
server.register_grant(ClientCredentialsGrant)


@app.route("/<tenant>/oauth2/v2.0/token", methods=["POST"])
def token(tenant):
    print(json.dumps({"tenant": tenant, "form": request.form.to_dict()}), flush=True)
    return server.create_token_response()


@app.route("/metadata/identity/oauth2/token", methods=["GET"])
def managed_identity():
    if request.headers.get("Metadata") != "true":
        return jsonify(error="invalid_request", error_description="Metadata header"), 400
    print(json.dumps({"managed_identity": request.args.to_dict()}), flush=True)
    return jsonify(access_token="managed-identity-token", expires_on="4102444800")


app.run(host="127.0.0.1", port=PORT)
