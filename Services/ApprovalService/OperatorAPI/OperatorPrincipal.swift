import KeelStore

/// The holder of the API token an operators' API request carries, for the handlers it reaches.
///
/// The generated server interface passes each handler only its operation's input, so
/// `BearerAuthentication` (a server middleware) authenticates the token and binds its record here for
/// the rest of the request.
enum OperatorPrincipal {
    @TaskLocal static var current: APITokenRecord?
}
