// callback-gateway: Takes callbacks from remote workers over HTTP and keel.callbacks; applies each once.
// Today it serves /health/live, /health/ready and /metrics on its port; see README.md beside this file.
import KeelService

@main
enum CallbackGateway {
    static func main() async {
        await KeelServiceMain.main(.callbackGateway)
    }
}
