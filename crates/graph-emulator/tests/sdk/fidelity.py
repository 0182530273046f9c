#!/usr/bin/env python3
"""Fidelity check: Microsoft's Python Graph SDK (msgraph-sdk + azure-identity) against the
emulator. Run by tests/it/sdk_fidelity.rs with one argument, a JSON file holding the
emulator's connection info plus `seeded_users` (how many users the harness created).

Prints one line per check, `PASS name: detail` or `FAIL name: error`, then
`SUMMARY passed=N failed=M`. Exits 1 when a check failed. Every call goes through the
SDK's default middleware (retry, redirect, ...), so the SDK parses every response.
"""
import asyncio
import json
import ssl
import sys
import traceback
import urllib.request
import uuid

import httpx
from azure.identity.aio import CertificateCredential, ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import GraphClientFactory
from msgraph.generated.models.group import Group
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem
from msgraph_core.tasks import PageIterator
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.groups.item.assign_license.assign_license_post_request_body import (
    AssignLicensePostRequestBody)
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.models.extension_property import ExtensionProperty
from msgraph.generated.models.invitation import Invitation
from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
from msgraph.generated.role_management.directory.role_assignments.role_assignments_request_builder import (  # noqa: E501
    RoleAssignmentsRequestBuilder)
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

SCOPES = ["https://graph.microsoft.com/.default"]
EMS = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
RESULTS = []


def report(name, ok, detail):
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


async def check(name, coroutine):
    """Runs one check; an exception (the SDK refusing a response) is a failure."""
    try:
        detail = await coroutine
        report(name, True, detail)
        return True
    except Exception as error:  # noqa: BLE001 - every failure is reported, none is fatal
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        report(name, False, last)
        return False


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def client_for(info, credential):
    # The SDK's own HTTP client with its default middleware (retry, redirect, ...), only
    # told to trust the emulator's CA; the same authentication provider that
    # GraphServiceClient(credentials=...) builds (allowed_hosts=[]: any host).
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_path"])))
    auth = AzureIdentityAuthenticationProvider(credential, scopes=SCOPES)
    client = GraphServiceClient(request_adapter=GraphRequestAdapter(auth, client=http))
    # The adapter fills {+baseurl} at send time, so the override reaches every request.
    client.request_adapter.base_url = info["graph_url"]
    return client


def stats(info):
    """The emulator's own counters (outside Graph, no token)."""
    context = ssl.create_default_context(cafile=info["ca_path"])
    with urllib.request.urlopen(info["login_url"] + "/_emulator/stats", context=context) as r:
        return json.load(r)


async def token_with_secret(credential):
    token = await credential.get_token(*SCOPES)
    expect(token.token.count(".") == 2, "the access token is not JWT-shaped")
    expect(token.expires_on > 0, "no expiry")
    return "ClientSecretCredential got a token"


async def token_with_certificate(info, credential):
    token = await credential.get_token(*SCOPES)
    expect(token.token.count(".") == 2, "the access token is not JWT-shaped")
    # The token must also be accepted by Graph.
    client = client_for(info, credential)
    org = await client.organization.get()
    expect(org.value and org.value[0].id == info["tenant_id"], "organization is not the tenant")
    return "CertificateCredential got a token that Graph accepts"


async def list_users(client, expected):
    config = UsersRequestBuilder.UsersRequestBuilderGetRequestConfiguration(
        query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            top=10, select=["id", "displayName", "userPrincipalName"]))
    first = await client.users.get(request_configuration=config)
    expect(first.odata_next_link, "the first page has no @odata.nextLink")
    users = []
    await PageIterator(first, client.request_adapter).iterate(
        lambda u: users.append(u) or True)
    expect(len(users) == expected, f"PageIterator saw {len(users)} users, expected {expected}")
    # The same by hand, counting pages.
    page, pages, count = first, 1, len(first.value)
    while page.odata_next_link:
        page = await client.users.with_url(page.odata_next_link).get()
        pages += 1
        count += len(page.value)
    expect(count == expected, f"nextLink loop saw {count} users")
    expect(pages >= 3, f"only {pages} pages")
    expect(all(u.user_principal_name for u in users), "a user without userPrincipalName")
    return f"{count} users in {pages} pages"


async def create_user(client, domain, nickname):
    user = User(
        account_enabled=True,
        display_name=f"SDK {nickname}",
        mail_nickname=nickname,
        user_principal_name=f"{nickname}@{domain}",
        password_profile=PasswordProfile(
            force_change_password_next_sign_in=True, password="xWwvJ]6NMw+bWH-d"),
    )
    created = await client.users.post(user)
    expect(created.id, "no id on the created user")
    expect(created.user_principal_name == user.user_principal_name, "userPrincipalName differs")
    fetched = await client.users.by_user_id(created.id).get()
    expect(fetched.display_name == user.display_name, "displayName differs on read")
    return created


async def create_group(client, nickname):
    group = Group(display_name=f"SDK group {nickname}", mail_enabled=False,
                  mail_nickname=nickname, security_enabled=True)
    created = await client.groups.post(group)
    expect(created.id and created.security_enabled, "bad group")
    expect(created.security_identifier and created.security_identifier.startswith("S-1-12-1-"),
           "no securityIdentifier")
    return created


async def add_member(client, info, group_id, user_id):
    reference = ReferenceCreate(odata_id=f"{info['graph_url']}/directoryObjects/{user_id}")
    await client.groups.by_group_id(group_id).members.ref.post(reference)
    members = await client.groups.by_group_id(group_id).members.get()
    ids = [m.id for m in members.value]
    expect(ids == [user_id], f"members are {ids}")
    # The member comes back typed: the SDK builds a User from @odata.type.
    expect(type(members.value[0]).__name__ == "User",
           f"member parsed as {type(members.value[0]).__name__}")
    users_only = await client.groups.by_group_id(group_id).members.graph_user.get()
    expect([u.id for u in users_only.value] == [user_id], "members/graph.user")
    member_of = await client.users.by_user_id(user_id).member_of.get()
    expect([g.id for g in member_of.value] == [group_id], "memberOf does not list the group")
    return "members/$ref added the user; members, members/graph.user and memberOf show it"


async def delta_round_trip(client, user_id):
    page = await client.users.delta.get()
    seen = len(page.value)
    while page.odata_next_link:
        page = await client.users.delta.with_url(page.odata_next_link).get()
        seen += len(page.value)
    delta_link = page.odata_delta_link
    expect(delta_link, "the last page has no @odata.deltaLink")
    await client.users.by_user_id(user_id).patch(User(job_title="Fidelity tester"))
    changes = await client.users.delta.with_url(delta_link).get()
    changed = [u for u in changes.value if u.id == user_id]
    expect(len(changes.value) == 1 and changed, f"delta returned {len(changes.value)} objects")
    expect(changed[0].job_title == "Fidelity tester", "the change is not in the delta")
    expect(changes.odata_delta_link, "no deltaLink after the change")
    return f"initial round {seen} users; the next round saw exactly the changed user"


async def send_batch(client, user_id, group_id):
    content = BatchRequestContent()
    requests = {
        "user": client.users.by_user_id(user_id).to_get_request_information(),
        "group": client.groups.by_group_id(group_id).to_get_request_information(),
        "missing": client.users.by_user_id(str(uuid.uuid4())).to_get_request_information(),
    }
    for name, request in requests.items():
        content.add_request(name, BatchRequestItem(request, id=name))
    # (dependsOn is not exercised here: msgraph-core 1.5.2 serializes it as "depends_on".)
    response = await client.batch.post(content)
    codes = response.get_response_status_codes()
    expected = {"user": 200, "group": 200, "missing": 404}
    expect(codes == expected, f"item statuses {codes}")
    for name in ("user", "group", "missing"):
        item = response.get_response_by_id(name)
        expect(item.content_type and item.content_type.startswith("application/json"),
               f"{name} item has content type {item.content_type}")
    # Item bodies are JSON objects, as Graph sends them; msgraph-core 1.5.2 reads an item
    # body only when it is a base64 string (JsonParseNode.get_bytes_value), so
    # response_body() cannot be used to look inside them.
    return "3 items with absolute URLs: 200 user, 200 group, 404 missing"


def select(*properties):
    return RequestConfiguration(
        query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=list(properties)))


async def invite_guest(client):
    invitation = await client.invitations.post(Invitation(
        invited_user_email_address="guest@fabrikam.com",
        invite_redirect_url="https://myapp.contoso.com", send_invitation_message=False))
    expect(invitation.status == "PendingAcceptance", f"status {invitation.status}")
    expect(invitation.invite_redeem_url, "no inviteRedeemUrl")
    guest = await client.users.by_user_id(invitation.invited_user.id).get(
        request_configuration=select("userPrincipalName", "userType", "externalUserState"))
    expect(guest.user_type == "Guest", f"userType {guest.user_type}")
    expect(guest.external_user_state == "PendingAcceptance", "externalUserState")
    expect("#EXT#" in guest.user_principal_name, guest.user_principal_name)
    return f"guest {guest.user_principal_name} pending acceptance"


async def extension_property(client, user_id):
    apps = await client.applications.get()
    app = apps.value[0]
    by_app_id = await client.applications_with_app_id(app.app_id).get()
    expect(by_app_id.id == app.id, "applications(appId=...) is another application")
    created = await client.applications.by_application_id(app.id).extension_properties.post(
        ExtensionProperty(name="costCenter", data_type="String", target_objects=["User"]))
    name = created.name
    expect(name == f"extension_{app.app_id.replace('-', '')}_costCenter", f"name {name}")
    await client.users.by_user_id(user_id).patch(User(additional_data={name: "CC-7"}))
    user = await client.users.by_user_id(user_id).get(request_configuration=select("id", name))
    expect(user.additional_data.get(name) == "CC-7", f"additional data {user.additional_data}")
    return f"{name} written by PATCH and read back with $select (app also by appId)"


async def role_assignment(client, user_id):
    created = await client.role_management.directory.role_assignments.post(UnifiedRoleAssignment(
        odata_type="#microsoft.graph.unifiedRoleAssignment",
        role_definition_id=USER_ADMINISTRATOR, principal_id=user_id, directory_scope_id="/"))
    expect(created.id and created.principal_id == user_id, "bad assignment")
    config = RequestConfiguration(
        query_parameters=RoleAssignmentsRequestBuilder.RoleAssignmentsRequestBuilderGetQueryParameters(
            filter=f"principalId eq '{user_id}'"))
    listed = await client.role_management.directory.role_assignments.get(
        request_configuration=config)
    expect([a.id for a in listed.value] == [created.id], "filter by principalId")
    await client.role_management.directory.role_assignments.by_unified_role_assignment_id(
        created.id).delete()
    listed = await client.role_management.directory.role_assignments.get(
        request_configuration=config)
    expect(listed.value == [], "the assignment is still listed")
    return "User Administrator assigned at /, found by principalId, deleted"


async def owners_and_group_license(client, info, group_id, user_id):
    reference = ReferenceCreate(odata_id=f"{info['graph_url']}/directoryObjects/{user_id}")
    await client.groups.by_group_id(group_id).owners.ref.post(reference)
    owners = await client.groups.by_group_id(group_id).owners.get()
    expect([o.id for o in owners.value] == [user_id], "owners")
    group = await client.groups.by_group_id(group_id).assign_license.post(
        AssignLicensePostRequestBody(add_licenses=[AssignedLicense(sku_id=uuid.UUID(EMS))],
                                     remove_licenses=[]))
    expect(group.assigned_licenses and str(group.assigned_licenses[0].sku_id) == EMS,
           "group assignedLicenses")
    user = await client.users.by_user_id(user_id).get(
        request_configuration=select("assignedLicenses", "licenseAssignmentStates"))
    states = user.license_assignment_states or []
    expect(any(s.assigned_by_group == group_id and s.state == "Active" for s in states),
           "no inherited license state")
    skus = await client.subscribed_skus.get()
    ems = [s for s in skus.value if str(s.sku_id) == EMS][0]
    expect(ems.consumed_units == 1, f"consumedUnits {ems.consumed_units}")
    return "owner added; the member inherited EMS from the group (1 seat used)"


async def search_and_orderby(client, expected):
    config = RequestConfiguration(
        query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            search='"displayName:seeded"', orderby=["displayName desc"], count=True, top=5,
            select=["id", "displayName"]))
    config.headers.add("ConsistencyLevel", "eventual")
    page = await client.users.get(request_configuration=config)
    expect(page.odata_count == expected, f"@odata.count {page.odata_count}")
    names = [u.display_name for u in page.value]
    expect(names == sorted(names, reverse=True) and len(names) == 5, f"order {names}")
    expect(page.odata_next_link, "no nextLink")
    return f"$search found {page.odata_count}, $orderby desc first page {names[0]}..{names[-1]}"


async def delete_and_restore(client, domain):
    user = await create_user(client, domain, "sdkrestore")
    await client.users.by_user_id(user.id).delete()
    deleted = await client.directory.deleted_items.graph_user.get()
    expect(any(d.id == user.id for d in deleted.value), "not in deleted items")
    restored = await client.directory.deleted_items.by_directory_object_id(user.id).restore.post()
    expect(restored.id == user.id, "restore returned another object")
    again = await client.users.by_user_id(user.id).get()
    expect(again.user_principal_name == user.user_principal_name, "not back")
    org = await client.organization.get()
    domains = await client.domains.get()
    expect(domains.value[0].id == domain and org.value[0].verified_domains, "domains")
    return "deleted, listed in deletedItems, restored; organization and domains read"


async def throttled_and_retried(client, info, user_id, burst):
    before = stats(info)["throttled"]
    results = await asyncio.gather(
        *(client.users.by_user_id(user_id).get() for _ in range(burst)))
    after = stats(info)["throttled"]
    expect(all(u.id == user_id for u in results), "a read failed")
    expect(after > before, "no request was throttled; the burst did not reach the limit")
    return f"{after - before} of {burst} concurrent reads got 429 and the SDK retried them all"


async def main(path):
    with open(path, encoding="utf-8") as f:
        info = json.load(f)
    common = dict(authority=info["login_url"], disable_instance_discovery=True,
                  connection_verify=info["ca_path"])
    secret = ClientSecretCredential(info["tenant_id"], info["client_id"], info["client_secret"],
                                    **common)
    with open(info["private_key_path"], "rb") as k, open(info["certificate_path"], "rb") as c:
        pem = k.read() + c.read()
    certificate = CertificateCredential(info["tenant_id"], info["client_id"],
                                        certificate_data=pem, **common)
    client = client_for(info, secret)
    domain = info["initial_domain"]

    await check("token_client_secret", token_with_secret(secret))
    await check("token_certificate", token_with_certificate(info, certificate))
    await check("list_users_paged", list_users(client, info["seeded_users"]))

    user = group = None

    async def make_user():
        nonlocal user
        user = await create_user(client, domain, "sdkuser")
        return f"created {user.user_principal_name}"

    async def make_group():
        nonlocal group
        group = await create_group(client, "sdkgroup")
        return f"created security group {group.id}"

    await check("create_user", make_user())
    await check("create_group", make_group())
    if user and group:
        await check("add_member", add_member(client, info, group.id, user.id))
        await check("delta_round_trip", delta_round_trip(client, user.id))
        await check("batch", send_batch(client, user.id, group.id))
        await check("invitation", invite_guest(client))
        await check("extension_property", extension_property(client, user.id))
        await check("role_assignment", role_assignment(client, user.id))
        await check("owners_and_group_license",
                    owners_and_group_license(client, info, group.id, user.id))
        await check("search_and_orderby", search_and_orderby(client, info["seeded_users"]))
        await check("delete_and_restore", delete_and_restore(client, domain))
        await check("throttled_retry", throttled_and_retried(client, info, user.id,
                                                             info["burst"]))
    else:
        report("dependent_checks", False, "skipped: no user or group to work with")

    await secret.close()
    await certificate.close()
    passed, failed = RESULTS.count(True), RESULTS.count(False)
    print(f"SUMMARY passed={passed} failed={failed}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
