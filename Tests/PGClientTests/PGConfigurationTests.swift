@testable import PGClient
import Testing

/// URL parsing and query building: no server needed.
@Suite struct PGConfigurationTests {
    @Test func parsesAFullURL() throws {
        let configuration = try PGConfiguration(
            url:
                "postgres://svc%40keel:p%40ss%3Aw0rd@db.example.org:6543/keel_prod?application_name=intake&connect_timeout=2.5&sslmode=require"
        )
        #expect(configuration.user == "svc@keel")
        #expect(configuration.password == "p@ss:w0rd")
        #expect(configuration.host == "db.example.org")
        #expect(configuration.port == 6543)
        #expect(configuration.database == "keel_prod")
        #expect(configuration.applicationName == "intake")
        #expect(configuration.connectTimeout == .milliseconds(2500))
        #expect(configuration.options == ["sslmode": "require"])
    }

    @Test func appliesDefaults() throws {
        let configuration = try PGConfiguration(url: "postgresql://keel@localhost")
        #expect(configuration.port == 5432)
        #expect(configuration.database == "keel", "the database defaults to the user name")
        #expect(configuration.password == nil)
        #expect(configuration.applicationName == nil)
    }

    @Test func rejectsMalformedURLs() {
        for url in [
            "mysql://u:p@h/db", "postgres://h/db", "not a url", "postgres://u@h/db?connect_timeout=soon",
            "postgres://u@h/db?connect_timeout=inf", "postgres://u@h/db?connect_timeout=1e300",
            "postgres://u@h/db?connect_timeout=nan", "postgres://u@h/db?connect_timeout=-1",
        ] {
            #expect(throws: PGError.self, "\(url)") { try PGConfiguration(url: url) }
        }
    }

    @Test func timeoutsHaveBoundedDefaults() throws {
        let configuration = try PGConfiguration(url: "postgres://keel@localhost/keel")
        #expect(configuration.statementTimeout == .seconds(30))
        #expect(configuration.lockTimeout == .seconds(10))
        #expect(configuration.poolTimeout == .seconds(10))
        #expect(configuration.replyTimeout == .seconds(35))
        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters)
        #expect(parameters["options"] == "-c statement_timeout=30000 -c lock_timeout=10000")
        #expect(parameters["keepalives"] == "1")
        #expect(parameters["keepalives_idle"] == "30")
        #expect(parameters["keepalives_interval"] == "10")
        #expect(parameters["keepalives_count"] == "3")
        #expect(parameters["tcp_user_timeout"] == "30000")
    }

    @Test func theURLOverridesTimeoutsAndKeepalives() throws {
        let configuration = try PGConfiguration(
            url:
                "postgres://keel@localhost/keel?statement_timeout=1.5s&lock_timeout=250&pool_timeout=2.5&reply_grace=2min&keepalives_idle=5&tcp_user_timeout=9000&options=-c%20search_path%3Dx"
        )
        #expect(configuration.statementTimeout == .milliseconds(1500))
        #expect(configuration.lockTimeout == .milliseconds(250))
        #expect(configuration.poolTimeout == .milliseconds(2500))
        #expect(configuration.replyGrace == .seconds(120))
        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters)
        #expect(parameters["keepalives_idle"] == "5")
        #expect(parameters["tcp_user_timeout"] == "9000")
        #expect(parameters["keepalives_count"] == "3", "defaults stay for what the URL does not set")
        #expect(
            parameters["options"] == "-c statement_timeout=1500 -c lock_timeout=250 -c search_path=x",
            "the caller's options come last, so they win")
    }

    @Test func zeroTurnsTheStatementAndLockTimeoutsOff() throws {
        let configuration = try PGConfiguration(
            url: "postgres://keel@localhost/keel?statement_timeout=0&lock_timeout=0ms")
        #expect(configuration.statementTimeout == nil)
        #expect(configuration.lockTimeout == nil)
        #expect(configuration.replyTimeout == nil, "no statement timeout, no client-side reply limit")
        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters)
        #expect(parameters["options"] == "-c statement_timeout=0 -c lock_timeout=0")
    }

    @Test func rejectsMalformedTimeouts() {
        for query in [
            "statement_timeout=soon", "statement_timeout=-1", "lock_timeout=2d", "lock_timeout=1e300",
            "statement_timeout=nan", "pool_timeout=0", "pool_timeout=inf", "reply_grace=ms",
        ] {
            #expect(throws: PGError.self, "\(query)") {
                try PGConfiguration(url: "postgres://keel@localhost/keel?\(query)")
            }
        }
    }

    @Test func descriptionLeavesOutThePassword() throws {
        let configuration = try PGConfiguration(url: "postgres://keel:Sup3rS3cret@127.0.0.1:5432/keel")
        #expect(!configuration.description.contains("Sup3rS3cret"))
        #expect(!String(describing: configuration).contains("Sup3rS3cret"))
        #expect(configuration.description.contains("keel@127.0.0.1:5432/keel"))
    }

    @Test func mirrorAndDebugDescriptionLeaveOutSecrets() throws {
        let configuration = try PGConfiguration(
            url: "postgres://keel:Sup3rS3cret@127.0.0.1:5432/keel?sslpassword=K3yPassw0rd")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [dumped, String(reflecting: configuration), configuration.debugDescription] {
            #expect(!text.contains("Sup3rS3cret"), "\(text)")
            #expect(!text.contains("K3yPassw0rd"), "\(text)")
        }
        #expect(dumped.contains("127.0.0.1"))
        #expect(dumped.contains("sslpassword"), "option names stay visible")
    }

    @Test func interpolationBindsValuesAndSplicesOnlyUnescapedText() {
        let id = 42
        let name: String? = "O'Brien"
        let missing: Int? = nil
        let query: PGQuery =
            "SELECT * FROM \(unescaped: "people") WHERE id = \(id) AND name = \(name) OR x = \(missing)"
        #expect(query.sql == "SELECT * FROM people WHERE id = $1 AND name = $2 OR x = $3")
        #expect(query.binds.count == 3)
        #expect(!query.description.contains("O'Brien"))
        #expect(!"\(query.binds)".contains("O'Brien"))
        let plain = PGQuery("SELECT 1")
        #expect(plain.sql == "SELECT 1")
        #expect(plain.binds.count == 0)
    }
}

@Suite struct PGMultiHostConfigurationTests {
    @Test func aHostListIsTriedInOrderWithLibpqsTargetSessionAttributes() throws {
        let configuration = try PGConfiguration(
            url:
                "postgres://keel:pw@db-1:5432,db-2:6432,[::1]/keel?target_session_attrs=read-write&connect_timeout=9"
        )
        #expect(configuration.host == "db-1" && configuration.port == 5432)
        #expect(
            configuration.fallbackHosts == [
                PGHost(host: "db-2", port: 6432), PGHost(host: "::1", port: 5432),
            ])
        let parameters = Dictionary(uniqueKeysWithValues: configuration.connectionParameters)
        #expect(parameters["host"] == "db-1,db-2,::1")
        #expect(parameters["port"] == "5432,6432,5432")
        #expect(parameters["target_session_attrs"] == "read-write")
        // Each server gets a share of the whole attempt's time.
        #expect(parameters["connect_timeout"] == "3")
        #expect(configuration.description == "postgres://keel@db-1:5432,db-2:6432,::1:5432/keel")
        #expect(!configuration.description.contains("pw"))
    }

    @Test func aBadEntryInTheHostListIsRefused() {
        for url in [
            "postgres://keel@db-1,db-2:0/keel", "postgres://keel@db-1,:5432/keel",
            "postgres://keel@db-1,db-2:x/keel",
        ] {
            #expect(throws: PGError.self, "\(url)") { try PGConfiguration(url: url) }
        }
    }
}

extension PGClientTests {
    /// A first server nobody listens on, then the real one: libpq moves on and the session is the
    /// primary's (`target_session_attrs=read-write`).
    @Test func aDeadFirstHostFallsThroughToTheNextOne() async throws {
        let real = try PGTest.configuration()
        var configuration = real
        configuration.host = "127.0.0.1"
        configuration.port = 1
        configuration.fallbackHosts = [PGHost(host: real.host, port: real.port)]
        configuration.options["target_session_attrs"] = "read-write"
        let connection = try await PGConnection.connect(configuration, logger: PGTest.logger)
        let port = try await connection.query("SELECT current_setting('port')::int8").first?.decode(
            (Int).self)
        #expect(port == real.port)
        let primary = try await connection.query("SELECT NOT pg_is_in_recovery()").first?.decode(
            (Bool).self)
        #expect(primary == true)
        await connection.close()
    }
}
