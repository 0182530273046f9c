//! HTTP handlers: the identity platform endpoints, the inspection endpoints, the router
//! and the helpers shared by the Graph handlers, which live in one submodule per area.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Extension, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::{decode_basic, openid_configuration};
use crate::directory::{
    DeltaCursor, DeltaEntry, DirObject, Kind, Selection, check_select, reference_id,
};
use crate::error::GraphError;
use crate::odata::{FilterRules, QueryOptions};
use crate::server::{AppState, Scheme, empty};

mod applications;
mod batch;
mod deleted;
mod delta;
mod domains;
mod groups;
mod invitations;
mod roles;
mod users;

use applications::*;
use batch::*;
use deleted::*;
use delta::*;
use domains::*;
use groups::*;
use invitations::*;
use roles::*;
use users::*;

type AppResult = Result<Response, GraphError>;
type Shared = State<Arc<AppState>>;
type Pairs = Query<Vec<(String, String)>>;

const ODATA_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A JSON response with Graph's OData content type.
pub fn odata_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ODATA_CONTENT_TYPE),
    );
    response
        .headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    response
}

const USER_FILTERS: FilterRules = FilterRules {
    resource: "User",
    comparable: &[
        "id",
        "accountEnabled",
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "mailNickname",
        "department",
        "jobTitle",
        "companyName",
        "employeeId",
        "employeeType",
        "userType",
        "usageLocation",
        "city",
        "country",
        "state",
        "onPremisesImmutableId",
        "onPremisesSyncEnabled",
        "onPremisesSamAccountName",
        "creationType",
        "externalUserState",
    ],
    starts_with: &[
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "mailNickname",
        "jobTitle",
        "companyName",
        "employeeId",
        "city",
        "country",
        "state",
        "onPremisesSamAccountName",
    ],
    ends_with: &["mail", "userPrincipalName"],
};

const GROUP_FILTERS: FilterRules = FilterRules {
    resource: "Group",
    comparable: &[
        "id",
        "displayName",
        "mail",
        "mailNickname",
        "mailEnabled",
        "securityEnabled",
        "onPremisesSyncEnabled",
        "classification",
        "visibility",
    ],
    starts_with: &["displayName", "mail", "mailNickname"],
    ends_with: &["mail"],
};

/// `{scheme}://{host}` of the request, for absolute links.
#[derive(Debug)]
pub struct Base(String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let scheme = parts.extensions.get::<Scheme>().map_or("http", |s| s.0);
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        Ok(Base(format!("{scheme}://{host}")))
    }
}

impl Base {
    fn context(&self, fragment: &str) -> String {
        format!("{}/v1.0/$metadata#{fragment}", self.0)
    }
}

pub fn identity_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid),
        )
}

/// Inspection endpoints outside Graph's namespace, without authentication.
pub fn inspection_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/state", get(dump_state).post(load_state))
        .route("/_emulator/users", post(seed_user))
        .route("/_emulator/groups", post(seed_group))
        .route(
            "/_emulator/invitations/{user}/redeem",
            post(redeem_invitation),
        )
}

async fn reset(State(state): Shared) -> Response {
    state.reset();
    empty(StatusCode::NO_CONTENT)
}

async fn stats(State(state): Shared) -> Response {
    let stats = state.stats().clone();
    axum::Json(stats).into_response()
}

/// Adds a user the way directory synchronization would (e.g. `onPremisesSyncEnabled`).
async fn seed_user(State(state): Shared, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let now = state.clock.now();
    let mut dir = state.directory();
    let user = dir.seed_user(body, id, now)?;
    Ok(odata_json(
        StatusCode::CREATED,
        &Value::Object(user.props.to_map()),
    ))
}

/// Adds a group the way directory synchronization would (`members` as a list of ids).
async fn seed_group(State(state): Shared, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let sid = security_identifier(&id);
    let now = state.clock.now();
    let mut dir = state.directory();
    let group = dir.seed_group(body, id, sid, now)?;
    Ok(odata_json(
        StatusCode::CREATED,
        &Value::Object(group.props.to_map()),
    ))
}

/// Plays the guest's part of an invitation: `externalUserState` becomes `Accepted`.
async fn redeem_invitation(State(state): Shared, Path(user): Path<String>) -> AppResult {
    let now = state.clock.now();
    let mut dir = state.directory();
    let guest = dir.redeem_invitation(&user, now)?;
    Ok(odata_json(
        StatusCode::OK,
        &Value::Object(guest.props.to_map()),
    ))
}

/// Replaces the directory with a state in `GET /_emulator/state`'s form.
async fn load_state(State(state): Shared, body: Bytes) -> AppResult {
    let body: Value = serde_json::from_slice(&body).map_err(|_| GraphError::invalid_json())?;
    state.load_state(&body)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn dump_state(State(state): Shared) -> Response {
    axum::Json(state.directory().dump()).into_response()
}

pub fn graph_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1.0/users", get(list_users).post(create_user))
        .route("/v1.0/users/delta", get(users_delta))
        .route("/v1.0/users/$count", get(count_users))
        .route("/v1.0/groups/$count", get(count_groups))
        .route("/v1.0/users/microsoft.graph.delta()", get(users_delta))
        // Microsoft's SDKs call the function with its parentheses.
        .route("/v1.0/users/delta()", get(users_delta))
        .route(
            "/v1.0/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/v1.0/users/{id}/memberOf", get(user_member_of))
        .route(
            "/v1.0/users/{id}/transitiveMemberOf",
            get(user_transitive_member_of),
        )
        .route("/v1.0/groups/{id}/memberOf", get(group_member_of))
        .route(
            "/v1.0/groups/{id}/transitiveMemberOf",
            get(group_transitive_member_of),
        )
        .route(
            "/v1.0/groups/{id}/transitiveMembers",
            get(group_transitive_members),
        )
        .route("/v1.0/users/{id}/manager", get(get_manager))
        .route(
            "/v1.0/users/{id}/manager/$ref",
            axum::routing::put(set_manager).delete(remove_manager),
        )
        .route("/v1.0/users/{id}/directReports", get(direct_reports))
        .route("/v1.0/users/{id}/assignLicense", post(assign_license))
        .route("/v1.0/users/{id}/licenseDetails", get(user_license_details))
        .route("/v1.0/subscribedSkus", get(subscribed_skus))
        .route("/v1.0/organization", get(organization))
        .route("/v1.0/domains", get(list_domains).post(add_domain))
        .route("/v1.0/domains/{id}", get(get_domain).delete(delete_domain))
        .route("/v1.0/domains/{id}/verify", post(verify_domain))
        .route("/v1.0/groups", get(list_groups).post(create_group))
        .route("/v1.0/groups/delta", get(groups_delta))
        .route("/v1.0/groups/microsoft.graph.delta()", get(groups_delta))
        .route("/v1.0/groups/delta()", get(groups_delta))
        .route(
            "/v1.0/groups/{id}",
            get(get_group).patch(update_group).delete(delete_group),
        )
        .route("/v1.0/groups/{id}/members", get(group_members))
        .route("/v1.0/groups/{id}/members/$ref", post(add_member))
        .route("/v1.0/groups/{id}/members/{cast}", get(group_members_cast))
        .route("/v1.0/users/{id}/memberOf/{cast}", get(user_member_of_cast))
        .route(
            "/v1.0/users/{id}/transitiveMemberOf/{cast}",
            get(user_transitive_member_of_cast),
        )
        .route(
            "/v1.0/groups/{id}/transitiveMembers/{cast}",
            get(group_transitive_members_cast),
        )
        .route(
            "/v1.0/groups/{id}/members/{member}/$ref",
            delete(remove_member),
        )
        .route("/v1.0/groups/{id}/owners", get(group_owners))
        .route(
            "/v1.0/groups/{id}/assignLicense",
            post(assign_group_license),
        )
        .route("/v1.0/groups/{id}/owners/$ref", post(add_owner))
        .route(
            "/v1.0/groups/{id}/owners/{owner}/$ref",
            delete(remove_owner),
        )
        .route("/v1.0/invitations", post(invite))
        .route(
            "/v1.0/roleManagement/directory/roleDefinitions",
            get(list_role_definitions),
        )
        .route(
            "/v1.0/roleManagement/directory/roleDefinitions/{id}",
            get(get_role_definition),
        )
        .route(
            "/v1.0/roleManagement/directory/roleAssignments",
            get(list_role_assignments).post(create_role_assignment),
        )
        .route(
            "/v1.0/roleManagement/directory/roleAssignments/{id}",
            get(get_role_assignment).delete(delete_role_assignment),
        )
        .route("/v1.0/directoryRoles", get(list_directory_roles))
        .route("/v1.0/directoryRoles/{id}", get(get_directory_role))
        .route(
            "/v1.0/directoryRoles/{id}/members",
            get(directory_role_members),
        )
        .route(
            "/v1.0/directoryRoles/{id}/members/$ref",
            post(add_directory_role_member),
        )
        .route(
            "/v1.0/directoryRoles/{id}/members/{member}/$ref",
            delete(remove_directory_role_member),
        )
        .route("/v1.0/applications", get(list_applications))
        // `applications(appId='…')`; any other single segment gets the unknown-segment 400.
        .route("/v1.0/{segment}", any(application_by_app_id))
        .route(
            "/v1.0/{segment}/extensionProperties",
            any(extension_properties_by_app_id),
        )
        .route("/v1.0/applications/{id}", get(get_application))
        .route(
            "/v1.0/applications/{id}/extensionProperties",
            get(list_extension_properties).post(create_extension_property),
        )
        .route(
            "/v1.0/applications/{id}/extensionProperties/{ext}",
            get(get_extension_property).delete(delete_extension_property),
        )
        .route("/v1.0/$batch", post(batch))
        .route(
            "/v1.0/directory/deletedItems/microsoft.graph.user",
            get(list_deleted_users),
        )
        // The SDKs cast with the namespace alias.
        .route(
            "/v1.0/directory/deletedItems/graph.user",
            get(list_deleted_users),
        )
        .route(
            "/v1.0/directory/deletedItems/{id}",
            get(get_deleted_item).delete(purge_deleted_item),
        )
        .route(
            "/v1.0/directory/deletedItems/{id}/restore",
            post(restore_deleted_item),
        )
}

/// Graph's answer to a method a path does not support.
pub async fn method_not_allowed() -> GraphError {
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )
}

/// Graph's answer to a path it does not know.
pub async fn unknown_segment(uri: Uri) -> GraphError {
    let path = uri.path().trim_start_matches("/v1.0");
    let segment = path
        .trim_matches('/')
        .split('/')
        .next_back()
        .unwrap_or_default();
    GraphError::odata_bad_request(format!("Resource not found for the segment '{segment}'."))
}

// ---- identity platform ---------------------------------------------------------------

async fn token(
    State(state): Shared,
    Path(tenant): Path<String>,
    Base(base): Base,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(decode_basic);
    let now = state.clock.now();
    let result = state.tokens().token_request(
        &state.identity,
        &base,
        &tenant,
        &form,
        basic,
        &state.ids,
        now,
    );
    let mut response = match result {
        Ok(issued) => (StatusCode::OK, issued.body().to_string()).into_response(),
        Err(error) => {
            let correlation = headers
                .get("client-request-id")
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| state.ids.guid(), str::to_owned);
            let body = error.body(&state.ids.guid(), &correlation, now, &base);
            (error.status, body.to_string()).into_response()
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

async fn openid(State(state): Shared, Path(tenant): Path<String>, Base(base): Base) -> Response {
    if !state.identity.names_tenant(&tenant) {
        let error = crate::auth::TokenError::tenant_not_found(&tenant);
        let mut body = error.body(
            &state.ids.guid(),
            &state.ids.guid(),
            state.clock.now(),
            &base,
        );
        body["error"] = json!("invalid_tenant");
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    axum::Json(openid_configuration(&state.identity, &base)).into_response()
}

// ---- helpers -------------------------------------------------------------------------

fn parse_object(body: &Bytes) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(GraphError::invalid_json()),
    }
}

fn is_eventual(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
}

/// The page size a client asked for with `Prefer: odata.maxpagesize=N`.
fn max_page_size(headers: &HeaderMap) -> Option<usize> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize=")?.parse().ok())
        .map(|n: usize| n.clamp(1, crate::odata::MAX_PAGE_SIZE))
}

fn encode_token<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode_token<T: for<'de> Deserialize<'de>>(token: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).ok()?).ok()
}

fn bad_skiptoken() -> GraphError {
    GraphError::bad_request("Invalid paging token specified.")
}

/// Rebuilds a link: the request's options except the paging ones, plus `extra`.
fn link(base: &Base, path: &str, pairs: &[(String, String)], extra: (&str, String)) -> String {
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            let k = k.trim_start_matches('$').to_ascii_lowercase();
            k != "skiptoken" && k != "deltatoken"
        })
        .cloned()
        .collect();
    kept.push((extra.0.to_owned(), extra.1));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    format!("{}/v1.0/{path}?{query}", base.0)
}

fn context_with_select(base: &Base, set: &str, select: Option<&[String]>, entity: bool) -> String {
    let mut fragment = match select {
        Some(props) => format!("{set}({})", props.join(",")),
        None => set.to_owned(),
    };
    if entity {
        fragment.push_str("/$entity");
    }
    base.context(&fragment)
}

fn with_type(object: &DirObject, select: Option<&[String]>) -> Value {
    let mut map = Map::new();
    map.insert("@odata.type".to_owned(), json!(object.kind.odata_type()));
    map.extend(object.render(select));
    Value::Object(map)
}

/// Graph returns at most this many objects in an expanded collection.
const EXPANDED_COLLECTION_LIMIT: usize = 20;

/// The navigation properties `$expand` takes, by resource.
fn expandable(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &["manager", "directReports", "memberOf"],
        Kind::Group => &["members", "owners", "memberOf"],
    }
}

fn check_expand(kind: Kind, expand: &[crate::odata::Expand]) -> Result<(), GraphError> {
    for e in expand {
        if !expandable(kind).contains(&e.property.as_str()) {
            return Err(GraphError::odata_bad_request(format!(
                "Could not find a property named '{}' on type 'microsoft.graph.{}'.",
                e.property,
                kind.entity()
            )));
        }
    }
    Ok(())
}

/// Adds the `$expand`ed navigation properties to a rendered object. A missing manager is
/// left out; collections hold at most 20 objects.
fn add_expansions(
    dir: &crate::directory::Directory,
    object: &DirObject,
    expand: &[crate::odata::Expand],
    out: &mut Map<String, Value>,
) {
    for e in expand {
        let select = e.select.as_deref();
        let collection = |objects: Vec<&DirObject>| {
            Value::Array(
                objects
                    .into_iter()
                    .take(EXPANDED_COLLECTION_LIMIT)
                    .map(|o| with_type(o, select))
                    .collect(),
            )
        };
        let value = match e.property.as_str() {
            "manager" => dir.manager(&object.id).ok().map(|m| with_type(m, select)),
            "directReports" => dir.direct_reports(&object.id).ok().map(collection),
            "memberOf" => dir.member_of(object.kind, &object.id).ok().map(collection),
            "members" => dir
                .members(&object.id, 0, EXPANDED_COLLECTION_LIMIT)
                .ok()
                .map(|(page, _)| collection(page)),
            "owners" => dir.owners(&object.id).ok().map(collection),
            _ => None,
        };
        if let Some(value) = value {
            out.insert(e.property.clone(), value);
        }
    }
}

/// A list's `$skiptoken`: the creation position of the last object shown, or (with
/// `$orderby`) how many objects came before the next page.
#[derive(Debug, Serialize, Deserialize)]
struct ListToken {
    #[serde(default)]
    a: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<usize>,
}

/// What `$search` looks in, by resource (the documented displayName and mail, and the
/// other name-like properties the directory indexes for search).
fn searchable(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &[
            "displayName",
            "mail",
            "userPrincipalName",
            "givenName",
            "surname",
            "mailNickname",
        ],
        Kind::Group => &["displayName", "mail", "mailNickname", "description"],
    }
}

/// `$orderby` works on these without an advanced query.
fn sortable_by_default(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &["displayName", "userPrincipalName"],
        Kind::Group => &["displayName"],
    }
}

fn sorting_not_supported() -> GraphError {
    GraphError::unsupported_query("Sorting not supported for current query.")
}

// ---- collections -----------------------------------------------------------------------

fn list(
    state: &AppState,
    kind: Kind,
    rules: &FilterRules,
    base: &Base,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    if let Some(select) = &q.select {
        check_select(kind, select)?;
    }
    let eventual = is_eventual(headers);
    let advanced = eventual && q.count;
    if let Some(filter) = &q.filter {
        filter.validate(rules, advanced)?;
    }
    if let Some(search) = &q.search {
        if !eventual {
            return Err(GraphError::unsupported_query(
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ));
        }
        let clauses = std::iter::once(&search.first).chain(search.rest.iter().map(|(_, c)| c));
        for clause in clauses {
            if !searchable(kind).contains(&clause.property.as_str()) {
                return Err(GraphError::unsupported_query(format!(
                    "Unsupported or invalid search clause specified for property '{}' of resource '{}'.",
                    clause.property,
                    kind.resource()
                )));
            }
        }
    }
    check_expand(kind, &q.expand)?;
    if let Some(order_by) = &q.orderby {
        check_select(kind, std::slice::from_ref(&order_by.property))?;
        let by_default = sortable_by_default(kind).contains(&order_by.property.as_str());
        // Sorting anything else, or sorting a filtered list, is an advanced query.
        if !advanced && (!by_default || q.filter.is_some()) {
            return Err(sorting_not_supported());
        }
    }
    let token = match &q.skiptoken {
        Some(t) => Some(decode_token::<ListToken>(t).ok_or_else(bad_skiptoken)?),
        None => None,
    };
    state.directory().check_extension_names(
        kind,
        q.select
            .iter()
            .flatten()
            .map(String::as_str)
            .chain(q.filter.iter().flat_map(|f| f.properties()))
            .chain(q.orderby.iter().map(|o| o.property.as_str())),
    )?;
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let query = Selection {
        filter: q.filter.as_ref(),
        search: q.search.as_ref(),
    };
    let dir = state.directory();
    let (page, next) = match &q.orderby {
        Some(order_by) => {
            let offset = token.and_then(|t| t.o).unwrap_or(0);
            let (page, next) = dir.list_sorted(kind, query, order_by, offset, q.page_size());
            (page, next.map(|o| ListToken { a: 0, o: Some(o) }))
        }
        None => {
            let after = token.map_or(0, |t| t.a);
            let (page, next) = dir.list(kind, query, after, q.page_size());
            (page, next.map(|a| ListToken { a, o: None }))
        }
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(context_with_select(base, set, q.select.as_deref(), false)),
    );
    // `$count=true` without `ConsistencyLevel: eventual` is silently ignored.
    if advanced {
        body.insert("@odata.count".to_owned(), json!(dir.count(kind, query)));
    }
    if let Some(next) = next {
        let token = encode_token(&next);
        body.insert(
            "@odata.nextLink".to_owned(),
            json!(link(base, set, pairs, ("$skiptoken", token))),
        );
    }
    let value: Vec<Value> = page
        .iter()
        .filter(|o| !state.not_yet_visible(&o.id))
        .map(|o| {
            let mut rendered = o.render(q.select.as_deref());
            add_expansions(&dir, o, &q.expand, &mut rendered);
            Value::Object(rendered)
        })
        .collect();
    body.insert("value".to_owned(), Value::Array(value));
    Ok(odata_json(StatusCode::OK, &Value::Object(body)))
}

fn get_one(
    state: &AppState,
    kind: Kind,
    base: &Base,
    key: &str,
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    if let Some(select) = &q.select {
        check_select(kind, select)?;
    }
    check_expand(kind, &q.expand)?;
    let dir = state.directory();
    dir.check_extension_names(kind, q.select.iter().flatten().map(String::as_str))?;
    let object = dir.get(kind, key)?;
    if state.not_yet_visible(&object.id) {
        return Err(GraphError::not_found(key));
    }
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(context_with_select(base, set, q.select.as_deref(), true)),
    );
    body.extend(object.render(q.select.as_deref()));
    add_expansions(&dir, object, &q.expand, &mut body);
    Ok(odata_json(StatusCode::OK, &Value::Object(body)))
}

fn created(base: &Base, set: &str, object: &DirObject) -> Response {
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(base.context(&format!("{set}/$entity"))),
    );
    body.extend(object.render(None));
    let mut response = odata_json(StatusCode::CREATED, &Value::Object(body));
    if let Ok(location) = HeaderValue::from_str(&format!("{}/v1.0/{set}/{}", base.0, object.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn batch_item_urls_may_be_relative_or_absolute() {
        for url in [
            "/users/1?$select=id",
            "users/1?$select=id",
            "/v1.0/users/1?$select=id",
            "https://127.0.0.1:8443/v1.0/users/1?$select=id",
            "https://graph.microsoft.com/v1.0/users/1?$select=id",
        ] {
            assert_eq!(super::batch_item_path(url), "users/1?$select=id", "{url}");
        }
    }
}
