import Configuration
import KeelService
import Testing

@Suite struct ConfigurationTests {
    @Test func localDefaults() throws {
        let configuration = try KeelConfiguration(
            service: .approvalService, reader: ConfigReader(providers: [InMemoryProvider(values: [:])]))
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 7403)
        #expect(configuration.databaseURL == KeelConfiguration.defaultDatabaseURL)
        #expect(configuration.amqpURL == KeelConfiguration.defaultAMQPURL)
    }

    @Test func flagsOverrideEnvironment() throws {
        let reader = KeelConfiguration.standardReader(arguments: [
            "step-executor", "--http-port", "9999", "--database-url", "postgres://a:b@h/d",
        ])
        let configuration = try KeelConfiguration(service: .stepExecutor, reader: reader)
        #expect(configuration.port == 9999)
        #expect(configuration.databaseURL == "postgres://a:b@h/d")
    }

    @Test(
        "A number or switch that does not parse is refused naming the setting, not replaced by its default",
        arguments: [
            ("KEEL_HTTP_PORT", "80a"), ("KEEL_AMQP_PREFETCH", "many"), ("KEEL_DATABASE_POOL_SIZE", "8.5"),
            ("KEEL_STEP_SHARDS", "four"), ("KEEL_STEP_LEASE_SECONDS", "soon"), ("KEEL_WEB_HTTPS", "maybe"),
        ])
    func unparsableValuesAreRefused(variable: String, value: String) throws {
        let reader = KeelConfiguration.reader(environment: [variable: value])
        let error = try #require(throws: ConfigurationError.self) {
            try KeelConfiguration(service: .approvalService, reader: reader)
        }
        #expect(
            error.setting
                == variable.dropFirst("KEEL_".count).lowercased().replacingOccurrences(of: "_", with: "."))
        #expect(error.value == value)
    }

    @Test func environmentVariablesAreKeelPrefixed() throws {
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: [
                "KEEL_HTTP_PORT": "8123", "KEEL_LOG_FORMAT": "json", "HTTP_PORT": "1",
            ]).prefixKeys(with: ["keel"])
        ])
        let configuration = try KeelConfiguration(service: .triggerIntake, reader: reader)
        #expect(configuration.port == 8123)
        #expect(configuration.logFormat == .json)
    }

    @Test func textualFormsMaskTheURLPasswords() throws {
        let reader = ConfigReader(providers: [
            InMemoryProvider(values: [
                "database.url": "postgres://keel:Db-S3cret@db:5432/keel",
                "amqp.url": "amqp://keel:Mq-S3cret@mq:5672/keel",
            ])
        ])
        let configuration = try KeelConfiguration(service: .triggerIntake, reader: reader)
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [String(describing: configuration), String(reflecting: configuration), dumped] {
            #expect(!text.contains("Db-S3cret"), "\(text)")
            #expect(!text.contains("Mq-S3cret"), "\(text)")
            #expect(text.contains("db:5432"), "\(text)")
        }
    }

    @Test func invalidValueNamesTheSetting() {
        let reader = ConfigReader(providers: [InMemoryProvider(values: ["log.level": "loud"])])
        #expect {
            try KeelConfiguration(service: .triggerIntake, reader: reader)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("log.level") && text.contains("loud") && text.contains("debug")
        }
    }

    @Test(arguments: [
        ["KEEL_OTLP_ENDPOINT": "collector:4318"], ["KEEL_OTLP_ENDPOINT": "ftp://collector"],
        ["KEEL_OTLP_ENDPOINT": "http://"], ["KEEL_OTLP_ENDPOINT": "http://collector\u{0}:4318"],
        ["KEEL_OTLP_PROTOCOL": "grpc"], ["KEEL_OTLP_PROTOCOL": "x"],
    ])
    func anUnusableOTLPSettingIsRefusedByName(_ environment: [String: String]) {
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ["keel"])
        ])
        let setting = environment.keys.first == "KEEL_OTLP_ENDPOINT" ? "otlp.endpoint" : "otlp.protocol"
        #expect {
            try KeelConfiguration(service: .stepExecutor, reader: reader)
        } throws: { error in
            String(describing: error).contains(setting)
        }
    }

    @Test func tracingIsOffUnlessAnEndpointIsSet() throws {
        let off = try KeelConfiguration(
            service: .stepExecutor, reader: ConfigReader(providers: [InMemoryProvider(values: [:])]))
        #expect(off.otlpEndpoint == nil)
        #expect(off.otlpProtocol == "http/protobuf")
        let on = try KeelConfiguration(
            service: .stepExecutor,
            reader: ConfigReader(providers: [
                InMemoryProvider(values: [
                    "otlp.endpoint": "http://collector:4318", "otlp.protocol": "http/json",
                ])
            ]))
        #expect(on.otlpEndpoint == "http://collector:4318")
        #expect(on.otlpProtocol == "http/json")
    }
}
