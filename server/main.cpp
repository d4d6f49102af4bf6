#include <Poco/Path.h>

#include "app/berth_application.h"

int main(int argc, char** argv) {
    berth::server::BerthApplication app(Poco::Path::current());
    return app.run(argc, argv);
}
